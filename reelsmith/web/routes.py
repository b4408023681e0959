"""The page and the JSON API, as one Flask blueprint.

The app factory (``app.create_app``) puts the task queue in
``app.extensions["reelsmith"]`` and the settings in ``app.config["SETTINGS"]``;
every view reads them from there.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import HTTPException

from reelsmith.captions import fonts
from reelsmith.captions.overlay import (
    FONTS,
    MODES,
    POSITIONS,
    PRESETS,
    STYLE_RANGES,
    SUBTITLE_FORMATS,
    CaptionStyleError,
    cues_from_result,
    parse_style,
    subtitles,
)
from reelsmith.core import disk
from reelsmith.core import storage as storage_mod
from reelsmith.core.exceptions import (
    BadRequest,
    BadTransition,
    QueueFull,
    SpeechError,
    UnknownVisuals,
    UnknownVoice,
)
from reelsmith.core.netguard import UnsafeURL, check_webhook_url
from reelsmith.core.settings import ASPECTS, Settings
from reelsmith.tasks.model import Task, TaskRequest, TaskStatus
from reelsmith.tasks.queue import TaskQueue
from reelsmith.visuals import SOURCES, check_transition, check_visuals
from reelsmith.visuals.backgrounds import MAX_TRANSITION_SECONDS, TRANSITIONS
from reelsmith.voice import synthesizer as speech

log = logging.getLogger("reelsmith")

bp = Blueprint("reelsmith", __name__)

VOICES = ("auto", *speech.ENGINES)  # or an "engine:voice" id from /api/voices
MAX_VOICE = 100  # characters of a voice id
SPEED_RANGE = (speech.MIN_SPEED, speech.MAX_SPEED)
MAX_BODY = 256 * 1024  # a JSON or form body without files
UPLOAD_KINDS = {  # form field -> allowed suffixes
    "music": {".mp3", ".wav", ".m4a", ".ogg", ".flac"},
    "backgrounds": {".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv"},
    "font": {".ttf", ".otf"},  # a caption font of your own
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MAX_BACKGROUNDS = 10
LENGTH_RANGE = (10, 120)  # seconds
MAX_LANGUAGE = 12  # characters of a language code
MAX_URL = 2000
TOKEN_COOKIE = "reelsmith_token"
TASK_ID = re.compile(r"^[0-9a-f]{32}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
DOWNLOADS = {  # name in the URL -> (file suffix, mimetype)
    "video": (".mp4", "video/mp4"),
    "subtitles": (".srt", "application/x-subrip"),
    "thumbnail": (".jpg", "image/jpeg"),
}


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _tasks() -> TaskQueue:
    return current_app.extensions["reelsmith"]


def _files() -> storage_mod.Files:
    return current_app.extensions["reelsmith_files"]


def task_json(task: Task) -> dict:
    if task.status == TaskStatus.QUEUED and task.queue_position is None:
        _tasks().locate([task])  # queue_position and eta_seconds
    data = task.to_dict()
    data["status_url"] = url_for("reelsmith.task_status", task_id=task.id)
    if task.status == TaskStatus.DONE and not task.expired_at:
        data["links"] = {
            name: url_for("reelsmith.download", task_id=task.id, kind=name) for name in DOWNLOADS
        }
    return data


def get_task_or_404(task_id: str) -> Task:
    task = _tasks().store.get(task_id) if TASK_ID.match(task_id) else None
    if task is None:
        abort(404, description=f"no task with id {task_id!r}")
    return task


@bp.before_app_request
def require_token():
    """With API_TOKEN set, every /api/* call must carry it: as a Bearer
    header, or as the cookie the page sets (so <video> requests carry it)."""
    token = _settings().api_token
    if not token or not request.path.startswith("/api/"):
        return None
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = jsonify(error="an API token is required: send 'Authorization: Bearer <token>'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, 401
    return None


@bp.get("/")
def index():
    settings = _settings()
    return render_template(
        "index.html",
        offline_writer=not settings.openai_api_key,
        voices=VOICES,
        aspects=list(ASPECTS),
        token_required=bool(settings.api_token),
        token_cookie=TOKEN_COOKIE,
        max_topic=settings.max_topic_chars,
        max_script=settings.max_script_chars,
        max_language=MAX_LANGUAGE,
        length_range=LENGTH_RANGE,
        max_backgrounds=MAX_BACKGROUNDS,
        accept={kind: ",".join(sorted(suffixes)) for kind, suffixes in UPLOAD_KINDS.items()},
        speed_range=SPEED_RANGE,
        visual_sources=["auto", *SOURCES],
        transitions=list(TRANSITIONS),
        max_transition_seconds=MAX_TRANSITION_SECONDS,
        caption_presets=list(PRESETS),
        caption_modes=MODES,
        caption_positions=POSITIONS,
        caption_fonts=list(FONTS),
        caption_size_range=STYLE_RANGES["size"],
        caption_presets_json=json.dumps({n: s.to_dict() for n, s in PRESETS.items()}),
    )


@bp.post("/api/create")
def create():
    if request.mimetype != "multipart/form-data" and (request.content_length or 0) > MAX_BODY:
        abort(
            413,
            description=f"the request body is over {MAX_BODY // 1024} KB "
            "(files go in a multipart upload)",
        )
    settings = _settings()
    free = _files().low_space(settings.min_free_mb)
    if free is not None:
        return jsonify(
            error=f"disk full: {disk.format_mb(free)} MB free in DATA_DIR "
            f"({settings.data_dir}), below MIN_FREE_MB "
            f"({settings.min_free_mb:g}); free some space or lower MIN_FREE_MB",
            data_dir=str(settings.data_dir),
            free_mb=round(free, 1),
        ), 507
    task_request = parse_create_request(settings)
    saved = save_uploads(_files().uploads)
    task_request.music, task_request.font = saved["music"], saved["font"]
    task_request.backgrounds = saved["backgrounds"]
    try:
        task = _tasks().submit(task_request)
    except QueueFull as exc:
        _files().remove_uploads(task_request.uploads)
        response = jsonify(error=f"busy: {exc}; try again shortly")
        response.status_code = 503
        response.headers["Retry-After"] = "10"
        return response
    return jsonify(
        task_id=task.id, status_url=url_for("reelsmith.task_status", task_id=task.id)
    ), 202


@bp.get("/api/task/<task_id>")
def task_status(task_id):
    return jsonify(task_json(get_task_or_404(task_id)))


@bp.post("/api/task/<task_id>/cancel")
def cancel(task_id):
    get_task_or_404(task_id)
    return jsonify(task_json(_tasks().cancel(task_id)))


@bp.get("/api/task/<task_id>/events")
def events(task_id):
    get_task_or_404(task_id)
    return jsonify(events=_tasks().store.events(task_id))


@bp.get("/api/tasks")
def list_tasks():
    return jsonify(tasks=[task_json(t) for t in _tasks().locate(_tasks().store.list())])


@bp.get("/api/openapi.json")
def openapi_document():
    from reelsmith.web import openapi

    return jsonify(openapi.document(_settings()))


@bp.get("/api/voices")
def voices():
    """Every voice that can speak here (id, engine, language, name, gender,
    offline, word timings), the engines, and language names for pickers."""
    from dataclasses import asdict

    settings = _settings()
    return jsonify(
        voices=[asdict(v) for v in speech.list_voices(settings)],
        engines=speech.engine_table(settings),
        languages=speech.language_names(),
    )


@bp.get("/api/voices/<path:voice_id>/preview")
def voice_preview(voice_id):
    """A short clip of the voice saying a fixed sentence (WAV, cached)."""
    settings = _settings()
    language = request.args.get("language")
    if language is not None and not LANGUAGE.match(language):
        raise BadRequest("language must be a code like 'en' or 'pt-BR'", "language")
    try:
        voice_id = speech.check_voice(voice_id, language or "en", settings)
    except UnknownVoice as exc:
        abort(404, description=exc.message)
    try:
        path = speech.preview(voice_id, settings, language=language)
    except SpeechError as exc:
        return jsonify(error=f"{exc.stage}: {exc.message}"), 502
    return send_file(path, mimetype="audio/wav", conditional=True)


@bp.get("/api/status")
def status():
    """What this server writes and speaks with, and its queue."""
    from content_generator import ContentGenerator

    tasks, settings = _tasks(), _settings()
    return jsonify(
        writer=ContentGenerator(settings=settings).writer_status(),
        words_per_second=round(speech.words_per_second("auto", 1.0, "en", settings), 2),
        queued=tasks.store.count(TaskStatus.QUEUED),
        running=tasks.store.count(TaskStatus.RUNNING),
    )


@bp.get("/api/task/<task_id>/subtitles")
def subtitles_file(task_id):
    """The captions as SRT (the file), or WebVTT / ASS with each word's timing."""
    fmt = request.args.get("format", "srt")
    if fmt not in SUBTITLE_FORMATS:
        raise BadRequest(f"format must be one of {', '.join(SUBTITLE_FORMATS)}", "format")
    if fmt == "srt":
        return download(task_id, "subtitles")
    task = get_task_or_404(task_id)
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}, not done")
    result = task.result or {}
    text = subtitles(
        cues_from_result(result.get("captions", [])),
        fmt,
        style=parse_style(task.request.caption_style),
        size=(result.get("width", 1080), result.get("height", 1920)),
    )
    response = current_app.response_class(text, mimetype=SUBTITLE_FORMATS[fmt])
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = (
            f"attachment; filename=reelsmith-{task.id[:8]}.{fmt}"
        )
    return response


PREVIEW_SHORT_SIDE = 540  # previews are drawn at half the render's size: same layout, faster
PREVIEW_SENTENCE = "Every word lights up as the voice speaks it"
MAX_PREVIEW_SENTENCE = 200


@bp.post("/api/preview")
def preview():
    """One still frame in the caption style, drawn by the render's own code, as PNG.

    The fields come as JSON, or as a form; a multipart form may carry the
    ``font`` file a create request would (checked the same way), which is
    used for this frame only and removed afterwards."""
    from video_creator import render_preview

    if request.mimetype in FORM_TYPES:
        data = request.form.to_dict()
    else:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("the body is not a JSON object")
    settings = _settings()
    topic = data.get("topic") or "Your video's title"
    if not isinstance(topic, str) or len(topic) > settings.max_topic_chars:
        raise BadRequest(
            f"topic must be a string of at most {settings.max_topic_chars} characters", "topic"
        )
    sentence = data.get("sentence") or PREVIEW_SENTENCE
    if not isinstance(sentence, str) or len(sentence) > MAX_PREVIEW_SENTENCE:
        raise BadRequest(
            f"sentence must be a string of at most {MAX_PREVIEW_SENTENCE} characters", "sentence"
        )
    aspect = data.get("aspect", "9:16")
    if not isinstance(aspect, str) or aspect not in ASPECTS:
        raise BadRequest(f"aspect must be one of {', '.join(ASPECTS)}", "aspect")
    style = parse_style(caption_style_from(data.get("caption_style")))
    aw, ah = ASPECTS[aspect]
    unit = PREVIEW_SHORT_SIDE / min(aw, ah)
    size = (int(aw * unit) // 2 * 2, int(ah * unit) // 2 * 2)
    with preview_font() as font:
        if font is not None:  # as the render does: the upload replaces the style's font
            style = replace(style, font=str(font))
        png = render_preview(
            topic.strip() or "Preview", sentence.strip() or PREVIEW_SENTENCE, style, size
        )
    return current_app.response_class(png, mimetype="image/png")


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@contextlib.contextmanager
def preview_font():
    """The request's ``font`` file, checked as ``save_uploads`` checks it, as
    a temporary file for one preview (None without one), removed afterwards."""
    uploads = [f for f in request.files.getlist("font") if f.filename]
    if len(uploads) > 1:
        raise BadRequest("one font file at most", "font")
    if not uploads:
        yield None
        return
    suffix = _upload_suffix("font", uploads[0])
    with tempfile.TemporaryDirectory(prefix="reelsmith-preview-font-") as folder:
        path = Path(folder) / f"font{suffix}"
        uploads[0].save(path)
        _check_font_upload(path, uploads[0])
        yield path


def caption_style_from(value) -> dict | str | None:
    """A request's ``caption_style``: a preset name, a JSON object, or (from a
    form) that object as JSON text. Checked; returned as the task stores it."""
    if isinstance(value, str) and value.strip().startswith("{"):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("caption_style is not valid JSON", "caption_style") from None
    try:
        parse_style(value)
    except CaptionStyleError as exc:
        raise BadRequest(exc.message, exc.field) from None
    return value or None


@bp.get("/api/task/<task_id>/<kind>")
def download(task_id, kind):
    task = get_task_or_404(task_id)
    if kind not in DOWNLOADS:
        abort(404, description=f"unknown download {kind!r}")
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}, not done")
    suffix, mimetype = DOWNLOADS[kind]
    files = _files().storage  # storage.py: folder or S3
    name = storage_mod.output_name(task.id, suffix)  # built from the id only
    path = files.local_path(name)
    if task.expired_at or not (path.is_file() if path else files.exists(name)):
        abort(
            410, description="the file is no longer available (removed after the retention period)"
        )
    as_attachment = request.args.get("download") == "1"
    if path is None:  # object storage: a short-lived link, or a stream through here
        if _settings().storage_presign:
            return redirect(files.presigned_url(name, expires=300))
        response = current_app.response_class(
            stream_with_context(files.open_stream(name)), mimetype=mimetype
        )
        if as_attachment:
            response.headers["Content-Disposition"] = (
                f"attachment; filename=reelsmith-{task.id[:8]}{suffix}"
            )
        return response
    return send_file(
        path,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=f"reelsmith-{task.id[:8]}{suffix}",
        conditional=True,
    )


@bp.app_errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    body = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return jsonify(body), 400


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if not request.path.startswith("/api/"):
        return exc
    return jsonify(error=exc.description or exc.name), exc.code


@bp.app_errorhandler(Exception)
def unexpected(exc: Exception):
    log.exception("unhandled error on %s", request.path)
    return jsonify(error=f"internal error: {type(exc).__name__}"), 500


def parse_create_request(settings: Settings) -> TaskRequest:
    """Validate a create request (JSON or form) into a TaskRequest.

    Every field is read here, once; a new field is a few lines below and one
    property in ``openapi.py``."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadRequest("the body is not a JSON object")
    else:
        data = request.form.to_dict()

    def text(name: str, max_len: int, default: str | None = None) -> str | None:
        value = data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string", name)
        value = value.strip()
        if len(value) > max_len:
            raise BadRequest(
                f"{name} is too long ({len(value)} characters, at most {max_len})", name
            )
        return value

    def number(name: str, default: float, limits: tuple[float, float]) -> float:
        value = data.get(name, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            value = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"{name} must be a number", name) from None
        low, high = limits
        if not low <= value <= high:  # (also refuses nan)
            raise BadRequest(f"{name} must be between {low:g} and {high:g}", name)
        return value

    topic = text("topic", settings.max_topic_chars, "")
    script = text("script", settings.max_script_chars) or None
    if not topic and not script:
        raise BadRequest("a topic is required (or your own script)", "topic")
    if not topic:
        topic = " ".join(script.split()[:8])
    language = text("language", MAX_LANGUAGE, "en") or "en"
    if not LANGUAGE.match(language):
        raise BadRequest("language must be a code like 'en' or 'pt-BR'", "language")
    voice = text("voice", MAX_VOICE, "auto") or "auto"
    try:
        voice = speech.check_voice(voice, language, settings)
    except UnknownVoice as exc:
        raise BadRequest(exc.message, "voice") from None
    speed = number("speed", 1.0, SPEED_RANGE)
    length = data.get("length", 30)
    try:
        length = int(length)
    except (TypeError, ValueError):
        raise BadRequest("length must be a whole number of seconds", "length") from None
    low, high = LENGTH_RANGE
    if isinstance(data.get("length"), bool) or not low <= length <= high:
        raise BadRequest(f"length must be between {low} and {high} seconds", "length")
    tone = text("tone", 40, "informative") or "informative"
    aspect = text("aspect", 8, "9:16") or "9:16"
    if aspect not in ASPECTS:
        raise BadRequest(f"aspect must be one of {', '.join(ASPECTS)}", "aspect")
    webhook_url = text("webhook_url", MAX_URL) or None
    if webhook_url:
        try:
            check_webhook_url(webhook_url, settings.webhook_allow_private)
        except UnsafeURL as exc:
            raise BadRequest(f"webhook_url: {exc}", "webhook_url") from None
    fresh = data.get("fresh", False)
    if isinstance(fresh, str):
        fresh = fresh.lower() in ("1", "true", "on", "yes")
    caption_style = caption_style_from(data.get("caption_style"))
    transition_seconds = number("transition_seconds", 0.5, (0.01, MAX_TRANSITION_SECONDS))
    try:
        visuals = check_visuals(text("visuals", 20, "auto") or "auto", settings)
        transition, transition_seconds = check_transition(
            text("transition", 20, "cut") or "cut", transition_seconds
        )
    except (UnknownVisuals, BadTransition) as exc:
        raise BadRequest(exc.message, exc.field) from None
    return TaskRequest(
        topic=topic,
        script=script,
        voice=voice,
        language=language,
        length=length,
        tone=tone,
        aspect=aspect,
        fresh=bool(fresh),
        webhook_url=webhook_url,
        caption_style=caption_style,
        speed=speed,
        visuals=visuals,
        transition=transition,
        transition_seconds=transition_seconds,
    )


def save_uploads(uploads_dir: Path) -> dict:
    """Check and store the request's files under generated names.

    Returns ``{"music": name or None, "font": name or None, "backgrounds":
    [names]}``. The client's file names are only used for their suffix; the
    content is checked (images decoded, audio and video probed with ffmpeg,
    fonts opened with FreeType) before anything is kept.
    """
    files = [(kind, f) for kind in UPLOAD_KINDS for f in request.files.getlist(kind) if f.filename]
    for kind in ("music", "font"):
        if sum(1 for k, _ in files if k == kind) > 1:
            raise BadRequest(f"one {kind} file at most", kind)
    if sum(1 for k, _ in files if k == "backgrounds") > MAX_BACKGROUNDS:
        raise BadRequest(f"{MAX_BACKGROUNDS} background files at most", "backgrounds")
    saved: list[tuple[str, Path]] = []
    try:
        for kind, storage in files:
            suffix = _upload_suffix(kind, storage)
            path = uploads_dir / f"{uuid.uuid4().hex}{suffix}"
            storage.save(path)
            saved.append((kind, path))
            if kind == "font":
                _check_font_upload(path, storage)
            elif not _media_ok(path, kind):
                raise BadRequest(
                    f"{kind}: {storage.filename!r} is not a readable "
                    f"{'audio file' if kind == 'music' else 'image or video'}",
                    kind,
                )
    except BadRequest:
        for _, path in saved:
            path.unlink(missing_ok=True)
        raise
    names = {kind: [p.name for k, p in saved if k == kind] for kind in UPLOAD_KINDS}
    return {
        "music": next(iter(names["music"]), None),
        "font": next(iter(names["font"]), None),
        "backgrounds": names["backgrounds"],
    }


def _upload_suffix(kind: str, storage) -> str:
    """An uploaded file's suffix (lower case), if ``kind`` takes it."""
    suffix = Path(storage.filename).suffix.lower()
    if suffix not in UPLOAD_KINDS[kind]:
        raise BadRequest(
            f"{kind}: {suffix or 'no suffix'} files are not accepted "
            f"(use {', '.join(sorted(UPLOAD_KINDS[kind]))})",
            kind,
        )
    return suffix


def _check_font_upload(path: Path, storage) -> None:
    problem = fonts.check_font_file(path)
    if problem:
        raise BadRequest(f"font: {storage.filename!r}: {problem}", "font")


def _media_ok(path: Path, kind: str) -> bool:
    if path.suffix in IMAGE_SUFFIXES:
        from PIL import Image

        try:
            with Image.open(path) as img:
                img.verify()
            return True
        except Exception:
            return False
    import subprocess

    import imageio_ffmpeg

    log_text = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    return ("Audio:" in log_text) if kind == "music" else ("Video:" in log_text)
