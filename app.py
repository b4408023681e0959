"""The Reelsmith web app: a page, a JSON API and a background task worker.

Run it with ``make run`` (waitress, one process, so the in-process workers are
shared by every request), or ``python app.py --host 127.0.0.1 --port 5000``.
"""
from __future__ import annotations

import argparse
import atexit
import hmac
import ipaddress
import logging
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

from flask import Flask, abort, jsonify, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException

from config import ASPECTS, Settings
from exceptions import TaskInterrupted
from speech import available_voices
from tasks import QueueFull, Task, TaskQueue, TaskRequest, TaskStatus, TaskStore

log = logging.getLogger("reelsmith")

VOICES = ("auto", "piper", "gtts", "espeak")
WAITRESS_THREADS = 8  # request threads; the queue's workers are separate
MAX_BODY = 256 * 1024  # a JSON or form body without files
UPLOAD_KINDS = {  # form field -> allowed suffixes
    "music": {".mp3", ".wav", ".m4a", ".ogg", ".flac"},
    "backgrounds": {".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv"},
}
MAX_BACKGROUNDS = 10
TOKEN_COOKIE = "reelsmith_token"
TASK_ID = re.compile(r"^[0-9a-f]{32}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
DOWNLOADS = {  # name in the URL -> (file suffix, mimetype)
    "video": (".mp4", "video/mp4"),
    "subtitles": (".srt", "application/x-subrip"),
    "thumbnail": (".jpg", "image/jpeg"),
}


class BadRequest(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def create_app(test_config: dict | None = None) -> Flask:
    """App factory. ``test_config`` may hold ``SETTINGS`` (a Settings), ``RUNNER``
    (replaces the video pipeline) and ``START_WORKERS`` (default True, except
    under the ``flask`` command, where they start on the first request)."""
    app = Flask(__name__, instance_relative_config=True)
    test_config = test_config or {}
    settings: Settings = test_config.get("SETTINGS") or Settings.from_env()
    app.config.update(
        MAX_CONTENT_LENGTH=int(settings.max_upload_mb * 1024 * 1024),
        SETTINGS=settings,
    )
    app.json.sort_keys = False  # keep the documented field order
    app.config.update({k: v for k, v in test_config.items() if k.isupper()})

    videos_dir = settings.data_dir / "videos"
    videos_dir.mkdir(parents=True, exist_ok=True)
    remove_partial_outputs(videos_dir)  # left by a crash; their tasks run again
    store = TaskStore(settings.data_dir / "tasks.sqlite3")
    runner = test_config.get("RUNNER") or _pipeline_runner(settings, videos_dir)
    tasks = TaskQueue(store, runner, workers=settings.workers, maxsize=settings.queue_size)
    app.extensions["reelsmith"] = tasks
    start_lock = threading.Lock()

    def start_workers() -> None:
        with start_lock:
            if tasks.started:
                return
            tasks.start()
            atexit.register(tasks.shutdown, settings.shutdown_timeout)
            if settings.retention_days > 0:
                _start_janitor(store, videos_dir, settings.retention_days * 86400, tasks)

    under_flask_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    if test_config.get("START_WORKERS", not under_flask_cli):
        start_workers()
    elif "START_WORKERS" not in test_config:
        # `flask create` / `flask batch` render in the foreground and must not
        # drain the web queue; `flask run` starts the workers on its first request.
        app.before_request(start_workers)

    def task_json(task: Task) -> dict:
        data = task.to_dict()
        data["status_url"] = url_for("task_status", task_id=task.id)
        if task.status == TaskStatus.DONE and not task.expired_at:
            data["links"] = {
                name: url_for("download", task_id=task.id, kind=name) for name in DOWNLOADS
            }
        return data

    def get_task_or_404(task_id: str) -> Task:
        task = store.get(task_id) if TASK_ID.match(task_id) else None
        if task is None:
            abort(404, description=f"no task with id {task_id!r}")
        return task

    @app.before_request
    def require_token():
        """With API_TOKEN set, every /api/* call must carry it: as a Bearer
        header, or as the cookie the page sets (so <video> requests carry it)."""
        if not settings.api_token or not request.path.startswith("/api/"):
            return None
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else request.cookies.get(TOKEN_COOKIE, "")
        if not hmac.compare_digest(given.encode(), settings.api_token.encode()):
            response = jsonify(error="an API token is required: send 'Authorization: Bearer <token>'")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response, 401
        return None

    @app.get("/")
    def index():
        return render_template(
            "index.html", offline_writer=not settings.openai_api_key, voices=VOICES,
            aspects=list(ASPECTS), token_required=bool(settings.api_token),
            token_cookie=TOKEN_COOKIE,
        )

    @app.post("/api/create")
    def create():
        if request.mimetype != "multipart/form-data" and (request.content_length or 0) > MAX_BODY:
            abort(413, description=f"the request body is over {MAX_BODY // 1024} KB "
                                   "(files go in a multipart upload)")
        task_request = parse_create_request(settings)
        task_request.music, task_request.backgrounds = save_uploads(settings.data_dir / "uploads")
        try:
            task = tasks.submit(task_request)
        except QueueFull as exc:
            _remove_uploads(settings.data_dir / "uploads", task_request)
            response = jsonify(error=f"busy: {exc}; try again shortly")
            response.status_code = 503
            response.headers["Retry-After"] = "10"
            return response
        return jsonify(task_id=task.id, status_url=url_for("task_status", task_id=task.id)), 202

    @app.get("/api/task/<task_id>")
    def task_status(task_id):
        return jsonify(task_json(get_task_or_404(task_id)))

    @app.post("/api/task/<task_id>/cancel")
    def cancel(task_id):
        get_task_or_404(task_id)
        task = tasks.cancel(task_id)
        if task.status == TaskStatus.CANCELED:  # never ran: its uploads go now
            _remove_uploads(settings.data_dir / "uploads", task.request)
        return jsonify(task_json(task))

    @app.get("/api/task/<task_id>/events")
    def events(task_id):
        get_task_or_404(task_id)
        return jsonify(events=store.events(task_id))

    @app.get("/api/tasks")
    def list_tasks():
        return jsonify(tasks=[task_json(t) for t in store.list()])

    @app.get("/api/voices")
    def voices():
        return jsonify(voices=available_voices())

    @app.get("/api/task/<task_id>/<kind>")
    def download(task_id, kind):
        task = get_task_or_404(task_id)
        if kind not in DOWNLOADS:
            abort(404, description=f"unknown download {kind!r}")
        if task.status != TaskStatus.DONE:
            abort(409, description=f"task is {task.status.value}, not done")
        suffix, mimetype = DOWNLOADS[kind]
        path = videos_dir / f"{task.id}{suffix}"  # built from the id only
        if task.expired_at or not path.is_file():
            abort(410, description="the file is no longer available (removed after the "
                                   "retention period)")
        return send_file(path, mimetype=mimetype, as_attachment=request.args.get("download") == "1",
                         download_name=f"reelsmith-{task.id[:8]}{suffix}", conditional=True)

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):
        body = {"error": exc.message}
        if exc.field:
            body["field"] = exc.field
        return jsonify(body), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            return exc
        return jsonify(error=exc.description or exc.name), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return jsonify(error=f"internal error: {type(exc).__name__}"), 500

    register_cli(app)
    return app


def register_cli(app: Flask) -> None:
    """``flask --app app create "topic"`` and ``flask --app app batch topics.txt``."""
    import click

    from exceptions import ReelsmithError

    def pipeline(music: str | None = None):
        from pipeline import Pipeline

        settings = app.config["SETTINGS"]
        return Pipeline(settings.with_(music_path=Path(music)) if music else settings)

    music_option = click.option(
        "--music", type=click.Path(exists=True, dir_okay=False),
        help="A music bed, ducked under the voice (default: MUSIC_PATH, if set).")

    def request_for(topic, script_file, voice, language, length, aspect) -> TaskRequest:
        script = Path(script_file).read_text(encoding="utf-8") if script_file else None
        return TaskRequest(topic=topic, script=script, voice=voice, language=language,
                           length=length, aspect=aspect)

    @app.cli.command("create")
    @click.argument("topic")
    @click.option("--script", "script_file", type=click.Path(exists=True, dir_okay=False),
                  help="Your own script (one caption per sentence); skips the LLM.")
    @click.option("--voice", type=click.Choice(VOICES), default="auto", show_default=True)
    @click.option("--language", default="en", show_default=True)
    @click.option("--length", type=click.IntRange(10, 120), default=30, show_default=True)
    @click.option("--aspect", type=click.Choice(list(ASPECTS)), default="9:16", show_default=True)
    @click.option("--out", "out", type=click.Path(dir_okay=False), default="video.mp4",
                  show_default=True)
    @music_option
    def create_command(topic, script_file, voice, language, length, aspect, out, music):
        """Render one video in the foreground."""
        req = request_for(topic, script_file, voice, language, length, aspect)
        with click.progressbar(length=100, label="rendering") as bar:
            def report(stage, progress):
                bar.label = stage
                bar.update(int(progress * 100) - bar.pos)

            try:
                result = pipeline(music).run(req, Path(out), report)
            except ReelsmithError as exc:
                raise click.ClickException(f"{exc.stage}: {exc.message}") from exc
        click.echo(f"{out}: {result['duration']:.1f} s, voice {result['voice_engine']}, "
                   f"script {result['script_source']}")

    @app.cli.command("batch")
    @click.argument("topics_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), default="videos",
                  show_default=True)
    @click.option("--voice", type=click.Choice(VOICES), default="auto", show_default=True)
    @click.option("--language", default="en", show_default=True)
    @click.option("--aspect", type=click.Choice(list(ASPECTS)), default="9:16", show_default=True)
    @click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True)
    @music_option
    def batch_command(topics_file, out_dir, voice, language, aspect, workers, music):
        """Render one video per line of TOPICS_FILE (blank lines and # comments skipped)."""
        lines = Path(topics_file).read_text(encoding="utf-8").splitlines()
        topics = [t.strip() for t in lines if t.strip() and not t.strip().startswith("#")]
        if not topics:
            raise click.ClickException(f"{topics_file} has no topics")
        requests = [TaskRequest(topic=t, voice=voice, language=language, aspect=aspect)
                    for t in topics]
        click.echo(f"rendering {len(topics)} videos with {workers} workers into {out_dir}/")
        results = pipeline(music).run_batch(requests, Path(out_dir), max_workers=workers)
        failed = 0
        for i, (topic, result) in enumerate(zip(topics, results), start=1):
            if isinstance(result, ReelsmithError):
                failed += 1
                click.echo(f"{i:03d} FAILED at {result.stage}: {result.message}  ({topic})")
            else:
                click.echo(f"{i:03d}.mp4  {result['duration']:.1f} s  {result['title']}")
        if failed:
            raise click.ClickException(f"{failed} of {len(topics)} videos failed")


def parse_create_request(settings: Settings) -> TaskRequest:
    """Validate a create request (JSON or form) into a TaskRequest."""
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
            raise BadRequest(f"{name} is too long ({len(value)} characters, at most {max_len})", name)
        return value

    topic = text("topic", settings.max_topic_chars, "")
    script = text("script", settings.max_script_chars) or None
    if not topic and not script:
        raise BadRequest("a topic is required (or your own script)", "topic")
    if not topic:
        topic = " ".join(script.split()[:8])
    voice = text("voice", 20, "auto") or "auto"
    if voice not in VOICES:
        raise BadRequest(f"voice must be one of {', '.join(VOICES)}", "voice")
    language = text("language", 12, "en") or "en"
    if not LANGUAGE.match(language):
        raise BadRequest("language must be a code like 'en' or 'pt-BR'", "language")
    length = data.get("length", 30)
    try:
        length = int(length)
    except (TypeError, ValueError):
        raise BadRequest("length must be a whole number of seconds", "length") from None
    if isinstance(data.get("length"), bool) or not 10 <= length <= 120:
        raise BadRequest("length must be between 10 and 120 seconds", "length")
    tone = text("tone", 40, "informative") or "informative"
    aspect = text("aspect", 8, "9:16") or "9:16"
    if aspect not in ASPECTS:
        raise BadRequest(f"aspect must be one of {', '.join(ASPECTS)}", "aspect")
    webhook_url = text("webhook_url", 2000) or None
    if webhook_url and not re.match(r"^https?://[^\s/]+", webhook_url):
        raise BadRequest("webhook_url must be an http:// or https:// URL", "webhook_url")
    fresh = data.get("fresh", False)
    if isinstance(fresh, str):
        fresh = fresh.lower() in ("1", "true", "on", "yes")
    return TaskRequest(topic=topic, script=script, voice=voice, language=language,
                       length=length, tone=tone, aspect=aspect, fresh=bool(fresh),
                       webhook_url=webhook_url)


def save_uploads(uploads_dir: Path) -> tuple[str | None, list[str]]:
    """Check and store the request's files under generated names.

    Returns (music name, background names). The client's file names are only
    used for their suffix; the content is checked (images decoded, audio and
    video probed with ffmpeg) before anything is kept.
    """
    import uuid

    files = [("music", f) for f in request.files.getlist("music") if f.filename]
    files += [("backgrounds", f) for f in request.files.getlist("backgrounds") if f.filename]
    if len([f for kind, f in files if kind == "music"]) > 1:
        raise BadRequest("one music file at most", "music")
    if len(files) - sum(1 for kind, _ in files if kind == "music") > MAX_BACKGROUNDS:
        raise BadRequest(f"{MAX_BACKGROUNDS} background files at most", "backgrounds")
    saved: list[tuple[str, Path]] = []
    uploads_dir.mkdir(parents=True, exist_ok=True)
    try:
        for kind, storage in files:
            suffix = Path(storage.filename).suffix.lower()
            if suffix not in UPLOAD_KINDS[kind]:
                raise BadRequest(f"{kind}: {suffix or 'no suffix'} files are not accepted "
                                 f"(use {', '.join(sorted(UPLOAD_KINDS[kind]))})", kind)
            path = uploads_dir / f"{uuid.uuid4().hex}{suffix}"
            storage.save(path)
            saved.append((kind, path))
            if not _media_ok(path, kind):
                raise BadRequest(f"{kind}: {storage.filename!r} is not a readable "
                                 f"{'audio file' if kind == 'music' else 'image or video'}", kind)
    except BadRequest:
        for _, path in saved:
            path.unlink(missing_ok=True)
        raise
    music = next((p.name for kind, p in saved if kind == "music"), None)
    return music, [p.name for kind, p in saved if kind == "backgrounds"]


def _media_ok(path: Path, kind: str) -> bool:
    if path.suffix in {".jpg", ".jpeg", ".png", ".webp"}:
        from PIL import Image

        try:
            with Image.open(path) as img:
                img.verify()
            return True
        except Exception:
            return False
    import subprocess

    import imageio_ffmpeg

    log_text = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                              capture_output=True, text=True).stderr
    return ("Audio:" in log_text) if kind == "music" else ("Video:" in log_text)


def _remove_uploads(uploads_dir: Path, req: TaskRequest) -> None:
    for name in [req.music, *req.backgrounds]:
        if name:
            (uploads_dir / name).unlink(missing_ok=True)


def remove_partial_outputs(videos_dir: Path) -> None:
    """Delete temporary files a crash left behind (``.<id>.partial.*``, work folders)."""
    import shutil

    for path in videos_dir.glob(".*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def expire_outputs(store: TaskStore, videos_dir: Path, max_age_seconds: float) -> int:
    """Remove the files of tasks that finished more than ``max_age_seconds`` ago;
    the tasks stay, marked expired, with an event saying why."""
    expired = 0
    for task in store.finished_before(time.time() - max_age_seconds):
        for suffix, _ in DOWNLOADS.values():
            (videos_dir / f"{task.id}{suffix}").unlink(missing_ok=True)
        store.record(task.id, f"outputs removed after the retention period "
                              f"({max_age_seconds / 86400:g} days)", expired_at=time.time())
        expired += 1
    cutoff = time.time() - max_age_seconds  # uploads no task will use (e.g. after a crash)
    for upload in (videos_dir.parent / "uploads").glob("*"):
        if upload.stat().st_mtime < cutoff:
            upload.unlink(missing_ok=True)
    return expired


def _start_janitor(store, videos_dir, max_age_seconds, tasks: TaskQueue) -> None:
    def loop():
        while True:
            try:
                expire_outputs(store, videos_dir, max_age_seconds)
            except Exception:
                log.exception("retention cleanup failed")
            if tasks.wait_until_stopping(3600):
                return

    threading.Thread(target=loop, name="retention", daemon=True).start()


def _pipeline_runner(settings: Settings, videos_dir: Path):
    pipeline = None

    def run(task: Task, report) -> dict:
        nonlocal pipeline
        if pipeline is None:  # built on first use: start-up stays instant
            from pipeline import Pipeline

            pipeline = Pipeline(settings)
        try:
            result = pipeline.run(task.request, videos_dir / f"{task.id}.mp4", report)
        except TaskInterrupted:
            raise  # it runs again after a restart: keep its uploads
        except Exception:
            _remove_uploads(settings.data_dir / "uploads", task.request)
            raise
        _remove_uploads(settings.data_dir / "uploads", task.request)
        return result


    return run


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Reelsmith web app with waitress.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--allow-remote", action="store_true",
                        help="bind a non-loopback address even without API_TOKEN")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from waitress import serve

    settings = Settings.from_env()
    if not _is_loopback(args.host) and not settings.api_token and not args.allow_remote:
        parser.error(f"refusing to serve on {args.host} without API_TOKEN: anyone who can reach "
                     "it could use it. Set API_TOKEN, or pass --allow-remote if you mean it.")
    app = create_app({"SETTINGS": settings})
    log.info("Reelsmith on http://%s:%d", args.host, args.port)
    # SIGTERM ends the server like Ctrl-C does; the queue then stops gracefully.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(app, host=args.host, port=args.port, threads=WAITRESS_THREADS)
    except KeyboardInterrupt:
        pass
    finally:
        log.info("shutting down: waiting up to %gs for the running task",
                 app.config["SETTINGS"].shutdown_timeout)
        app.extensions["reelsmith"].shutdown(app.config["SETTINGS"].shutdown_timeout)


if __name__ == "__main__":
    main()
