"""Scenes: the user's own list of what each sentence says and shows.

A create request may carry ``scenes``: ``[{text, visual?: {source?, query?,
prompt?, url?, upload?}, voice?, seconds?}]``. ``check_scenes`` reads them
(a bad value is ``BadRequest`` naming e.g. ``scenes[2].text``); ``choose_scenes``
finds each scene's picture from its own spec: an uploaded file, a media URL
(downloaded through ``netguard``, checked by content, within size and
duration limits), else its source asked with its search words or prompt.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image, ImageOps

from cache import Cache
from reelsmith.core import netguard
from reelsmith.core.exceptions import BadRequest, StageFailed, UnsafeURL
from reelsmith.core.settings import Settings
from reelsmith.visuals.choosing import VisualsResult, choose
from reelsmith.visuals.icons.drawing import still
from reelsmith.visuals.look import make_background
from reelsmith.visuals.sources import SOURCES
from reelsmith.visuals.sources.base import Context
from reelsmith.visuals.sources.files import media_file

MAX_SCENES = 30
MAX_SCENE_CHARS = 400  # one sentence or caption group
MAX_MEDIA_URL_MB = 50
MAX_MEDIA_URL_SECONDS = 120.0  # a clip longer than this is refused
TEXT_LIMITS = {"source": 20, "query": 100, "prompt": 500, "url": 2000, "upload": 255}
VISUAL_KEYS = tuple(TEXT_LIMITS)
SCENE_KEYS = ("text", "visual", "voice", "seconds")
BOARD_KEYS = ("thumbnail_url", "estimated_seconds")  # a storyboard's own, ignored when sent back
SCENE_SCHEMA = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "maxLength": MAX_SCENE_CHARS},
        "visual": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                key: {"type": ["string", "null"], "maxLength": limit}
                for key, limit in TEXT_LIMITS.items()
            },
        },
        "voice": {"type": ["string", "null"], "maxLength": 100},
        "seconds": {"type": ["number", "null"], "minimum": 0.5, "maximum": 60},
    },
}


def check_scenes(value: Any, settings: Settings | None) -> list[dict] | None:
    """The ``scenes`` field checked and normalised (every visual key present,
    None when not given); None or [] is no scenes. A form sends the list as JSON text."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("scenes is not valid JSON", "scenes") from None
    if not isinstance(value, list):
        raise BadRequest("scenes must be a list of objects", "scenes")
    if len(value) > MAX_SCENES:
        raise BadRequest(f"scenes: {len(value)} scenes, at most {MAX_SCENES}", "scenes")
    return [_scene(i, scene, settings) for i, scene in enumerate(value)]


def _scene(i: int, scene: Any, settings: Settings | None) -> dict:
    where = f"scenes[{i}]"
    if not isinstance(scene, dict):
        raise BadRequest(f"{where} must be an object with a text", where)
    for key in scene:
        if key not in SCENE_KEYS and key not in BOARD_KEYS:
            raise BadRequest(
                f"{where}.{key} is not a scene field ({', '.join(SCENE_KEYS)})", f"{where}.{key}"
            )
    text = scene.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"{where}.text is required (what the scene says)", f"{where}.text")
    text = " ".join(text.split())
    if len(text) > MAX_SCENE_CHARS:
        raise BadRequest(
            f"{where}.text is too long ({len(text)} characters, at most {MAX_SCENE_CHARS})",
            f"{where}.text",
        )
    seconds = scene.get("seconds")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise BadRequest(f"{where}.seconds must be a number", f"{where}.seconds")
        if not 0.5 <= seconds <= 60:
            raise BadRequest(f"{where}.seconds must be between 0.5 and 60", f"{where}.seconds")
    voice = scene.get("voice")
    if voice is not None and (not isinstance(voice, str) or len(voice) > 100):
        raise BadRequest(f"{where}.voice must be a voice id (text)", f"{where}.voice")
    return {
        "text": text,
        "visual": check_visual(f"{where}.visual", scene.get("visual"), settings),
        "voice": voice.strip() if isinstance(voice, str) and voice.strip() else None,
        "seconds": seconds,
    }


def check_visual(where: str, visual: Any, settings: Settings | None) -> dict:
    """One scene's visual spec, every key present (None: not given)."""
    if visual is None:
        visual = {}
    if not isinstance(visual, dict):
        raise BadRequest(f"{where} must be an object ({', '.join(VISUAL_KEYS)})", where)
    out: dict = dict.fromkeys(VISUAL_KEYS)
    for key, raw in visual.items():
        name = f"{where}.{key}"
        if key not in TEXT_LIMITS:
            raise BadRequest(f"{name} is not a visual field ({', '.join(VISUAL_KEYS)})", name)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise BadRequest(f"{name} must be a string", name)
        raw = raw.strip()
        if len(raw) > TEXT_LIMITS[key]:
            raise BadRequest(
                f"{name} is too long ({len(raw)} characters, at most {TEXT_LIMITS[key]})", name
            )
        out[key] = raw or None
    if out["source"] is not None and out["source"] not in SOURCES:
        raise BadRequest(f"{where}.source must be one of {', '.join(SOURCES)}", f"{where}.source")
    given = [k for k in ("url", "upload") if out[k]]
    if len(given) > 1:
        raise BadRequest(f"{where}: give a url or an upload, not both", f"{where}.url")
    if out["upload"] and "/" in out["upload"].replace("\\", "/"):
        raise BadRequest(f"{where}.upload names an uploaded file, not a path", f"{where}.upload")
    if out["url"] and settings is not None:
        try:
            netguard.check_webhook_url(out["url"], settings.tasks.private_urls)
        except UnsafeURL as exc:
            raise BadRequest(f"{where}.url: {exc}", f"{where}.url") from None
    return out


def effective_source(visual: dict, default: str) -> str:
    """The source a scene's picture comes from: its own, "upload" for a file,
    "url" for a media URL, "ai" for a prompt alone, else the request's."""
    if visual.get("upload"):
        return "upload"
    if visual.get("url"):
        return "url"
    if visual.get("source"):
        return visual["source"]
    if visual.get("prompt") and not visual.get("query") and "ai" in SOURCES:
        return "ai"
    return default


def choose_scenes(
    scenes: list[dict],
    default: str,
    ctx: Context,
    settings: Settings,
    cache: Cache,
    uploads: Path,
    *,
    title: str = "",
    progress: Callable[[float], None] | None = None,
    vague_words=frozenset(),
) -> VisualsResult:
    """A picture per scene, from its own spec; scenes that name a source (or
    none: ``default``) are asked of it with their search words or prompt, and
    fall back as ``choose`` does."""
    paths: list[Path | None] = [None] * len(scenes)
    served: list[dict | None] = [None] * len(scenes)
    groups: dict[str, list[int]] = {}
    icons, main = [None] * len(scenes), None
    for i, scene in enumerate(scenes):
        visual = scene["visual"]
        name = effective_source(visual, default)
        if name == "upload":
            path = uploads / visual["upload"]
            if not path.is_file():
                raise StageFailed(
                    f"scenes[{i}].visual.upload: the uploaded file is gone", stage="visuals"
                )
            paths[i], served[i] = path, {"source": "upload", "note": f"upload {path.name}"}
        elif name == "url":
            paths[i] = fetch_media_url(visual["url"], settings, cache, f"scenes[{i}].visual.url")
            served[i] = {"source": "url", "note": f"url {visual['url']}"}
        else:
            groups.setdefault(name, []).append(i)
    for name, indexes in groups.items():
        result = choose(
            name,
            [scenes[i]["text"] for i in indexes],
            ctx,
            settings,
            cache,
            search_terms=[_terms(scenes[i]["visual"]) for i in indexes],
            prompts=[scenes[i]["visual"].get("prompt") or "" for i in indexes],
            title=title,
            vague_words=vague_words,
        )
        for k, i in enumerate(indexes):
            paths[i], served[i] = result.paths[k], result.per_sentence[k]
            icons[i] = result.icons[k]
        main = main or result.main_icon
    if progress is not None:
        progress(1.0)
    sources = list(dict.fromkeys(s["source"] for s in served))
    return VisualsResult(
        paths=paths,
        source=",".join(sources),
        note=None,
        per_sentence=list(served),
        icons=icons,
        main_icon=main,
    )


def _terms(visual: dict) -> list[str]:
    return [visual["query"]] if visual.get("query") else []


# -- the storyboard --------------------------------------------------------------


def storyboard_dir(data_dir: Path, board_id: str) -> Path:
    """Where a storyboard's thumbnails are kept (``<i>.jpg``)."""
    return Path(data_dir) / "storyboards" / Path(board_id).name


def storyboard_scenes(
    scenes: list[dict] | None,
    script,
    visuals: VisualsResult,
    words_per_second: float,
    folder: Path,
    size: tuple[int, int],
) -> list[dict]:
    """A scene per sentence (``scene_specs``) with its estimated length, and a
    thumbnail written to ``folder / <i>.jpg``."""
    board = []
    for spec in scene_specs(scenes, script, visuals):
        estimate = spec["seconds"] or max(
            1.0, len(spec["text"].split()) / max(0.5, words_per_second)
        )
        board.append(
            {
                "text": spec["text"],
                "visual": spec["visual"],
                "estimated_seconds": round(estimate, 1),
            }
        )
    write_thumbnails(visuals, len(board), script.title, folder, size)
    return board


def scene_specs(scenes: list[dict] | None, script, visuals: VisualsResult) -> list[dict]:
    """A scene per sentence as ``scenes`` on a create takes it back: its text,
    the visual chosen for it (source, search words, prompt, url, upload), its
    own voice and seconds when it had them."""
    specs = []
    for i, text in enumerate(script.sentences):
        given = scenes[i] if scenes and i < len(scenes) else None
        path = visuals.paths[i] if i < len(visuals.paths) else None
        served = visuals.per_sentence[i]["source"] if i < len(visuals.per_sentence) else ""
        visual = dict(given["visual"]) if given else dict.fromkeys(VISUAL_KEYS)
        if given is None:
            terms = script.search_terms[i] if i < len(script.search_terms) else []
            prompts = script.visual_prompts
            visual["query"] = terms[0] if terms else None
            visual["prompt"] = prompts[i] if i < len(prompts) and prompts[i] else None
            visual["upload"] = path.name if served == "upload" and path else None
        if served in SOURCES and served != "upload":
            visual["source"] = served
        specs.append(
            {
                "text": text,
                "visual": visual,
                "voice": given["voice"] if given else None,
                "seconds": given["seconds"] if given else None,
            }
        )
    return specs


def write_thumbnails(
    visuals: VisualsResult, count: int, seed: str, folder: Path, size: tuple[int, int]
) -> None:
    """The first ``count`` scenes' thumbnails, as ``folder / <i>.jpg`` (the
    icons look's still, or the generated background, where a scene has no picture)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = visuals.paths[i] if i < len(visuals.paths) else None
        served = visuals.per_sentence[i]["source"] if i < len(visuals.per_sentence) else ""
        if served == "icons":  # the icons look's still, with the sentence's icon
            icon = visuals.icons[i] if i < len(visuals.icons) else None
            main = visuals.main_icon
            box = (min(180, size[0]), max(1, round(min(180, size[0]) * size[1] / size[0])))
            thumb = still(box, main and main.emoji, icon and icon.emoji)
            thumb.save(folder / f"{i}.jpg", "JPEG", quality=80)
        else:
            make_thumbnail(path, folder / f"{i}.jpg", seed, size)


def make_thumbnail(path: Path | None, out: Path, seed: str, size: tuple[int, int]) -> Path:
    """A small JPEG (at most 180 px wide) of an image, a clip's first frame,
    or (None) the generated background of ``seed``."""
    width = min(180, size[0])
    box = (width, max(1, round(width * size[1] / size[0])))
    if path is None:
        img = make_background(box, seed)
    elif path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
        with Image.open(path) as src:
            img = src.convert("RGB")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            frame = Path(tmp) / "frame.png"
            subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)]
                + ["-frames:v", "1", "-y", str(frame)],
                capture_output=True,
                timeout=60,
            )
            if not frame.is_file():
                raise StageFailed(f"could not read a frame of {path.name}", stage="visuals")
            with Image.open(frame) as src:
                img = src.convert("RGB")
    img = ImageOps.fit(img, box)
    img.save(out, "JPEG", quality=80)
    return out


# -- media URLs -------------------------------------------------------------------


def fetch_media_url(url: str, settings: Settings, cache: Cache, field: str) -> Path:
    """A scene's media URL as a local file (through the disk cache): fetched
    through the SSRF guard, at most ``MAX_MEDIA_URL_MB``, an image or a video
    (by its content) no longer than ``MAX_MEDIA_URL_SECONDS``. A failure is
    StageFailed at the visuals stage, naming ``field``."""
    key = f"scene-url:{url}"
    try:
        data = cache.get(key)
        if data is None:
            data = netguard.fetch(url, settings.tasks.private_urls, MAX_MEDIA_URL_MB * 1_000_000)
        suffix = media_suffix(data)
        return media_file(cache, key, suffix, lambda: data)
    except UnsafeURL as exc:
        raise StageFailed(f"{field}: {exc}", stage="visuals") from None
    except (OSError, ValueError) as exc:
        raise StageFailed(f"{field}: could not use {url}: {exc}", stage="visuals") from None


def media_suffix(data: bytes) -> str:
    """The suffix for ``data``: .jpg, .png or .webp for an image, .mp4 for a
    video within the duration limit; ValueError for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            kind = (img.format or "").lower()
        return {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}.get(kind, ".png")
    except Exception:
        pass
    with tempfile.NamedTemporaryFile(suffix=".bin") as tmp:
        tmp.write(data)
        tmp.flush()
        log = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", tmp.name],
            capture_output=True,
            text=True,
            timeout=30,
        ).stderr
    if "Video:" not in log:
        raise ValueError("it is neither an image nor a video")
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", log)
    if match is None:
        raise ValueError("the video's duration is unknown")
    h, m, s = match.groups()
    seconds = int(h) * 3600 + int(m) * 60 + float(s)
    if seconds > MAX_MEDIA_URL_SECONDS:
        raise ValueError(f"the video is {seconds:.0f} s long, at most {MAX_MEDIA_URL_SECONDS:g} s")
    return ".mp4"
