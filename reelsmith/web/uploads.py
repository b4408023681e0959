"""Uploaded files: checked, kept under generated names, removed when done.

The fields that take files, their suffixes and how many are
``CreateRequest.upload_fields()``. The client's file names are only used
for their suffix; the content is checked (images decoded, audio and video
probed with ffmpeg, fonts opened with FreeType) before anything is kept.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
import typing
import uuid
from pathlib import Path

import imageio_ffmpeg
from flask import request
from PIL import Image

from reelsmith.captions import fonts
from reelsmith.core.exceptions import BadRequest
from reelsmith.request import NARRATION_MAX_MB, NARRATION_MAX_SECONDS, CreateRequest

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
AUDIO_FIELDS = {"music", "narration"}


def save_uploads(uploads_dir: Path, originals: dict | None = None) -> dict:
    """Check and store the request's files; returns the upload fields' values
    (a generated name or None, or a list of names, per field). ``originals``
    (when given) gets each backgrounds file's own name -> its generated name,
    for the scenes that name them."""
    fields = CreateRequest.upload_fields()
    files = [(name, f) for name in fields for f in request.files.getlist(name) if f.filename]
    for name, upload in fields.items():
        count = sum(1 for k, _ in files if k == name)
        if count > upload.most:
            what = f"one {name} file" if upload.most == 1 else f"{name}: {upload.most} files"
            raise BadRequest(f"{what} at most", name)
    saved: list[tuple[str, Path]] = []
    if files:
        uploads_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name, storage in files:
            suffix = upload_suffix(name, storage)
            path = uploads_dir / f"{uuid.uuid4().hex}{suffix}"
            storage.save(path)
            saved.append((name, path))
            if originals is not None and name == "backgrounds":
                originals[Path(storage.filename.replace("\\", "/")).name] = path.name
            if name == "font":
                check_font_upload(path, storage)
            elif not _media_ok(path, name):
                raise BadRequest(
                    f"{name}: {storage.filename!r} is not a readable "
                    f"{'audio file' if name in AUDIO_FIELDS else 'image or video'}",
                    name,
                )
            if name == "narration":
                check_narration_upload(path, storage)
    except BadRequest:
        for _, path in saved:
            path.unlink(missing_ok=True)
        raise
    values = {}
    for name in fields:
        names = [p.name for k, p in saved if k == name]
        if not names and fields[name].text:
            continue  # no file: the value sent as text stays
        many = typing.get_origin(CreateRequest.model_fields[name].annotation) is list
        values[name] = names if many else next(iter(names), None)
    return values


def bind_scene_uploads(task_request: CreateRequest, originals: dict[str, str]) -> CreateRequest:
    """The request with each scene's ``upload`` (a file's own name, or an
    already generated name) replaced by its stored name; BadRequest naming
    ``scenes[i].visual.upload`` when no such file came with the request."""
    if not task_request.scenes:
        return task_request
    stored = set(task_request.backgrounds)
    scenes = []
    for i, scene in enumerate(task_request.scenes):
        visual = dict(scene["visual"])
        name = visual.get("upload")
        if name:
            if name in originals:
                visual["upload"] = originals[name]
            elif name not in stored:
                raise BadRequest(
                    f"scenes[{i}].visual.upload: no backgrounds file named {name!r} "
                    "came with this request",
                    f"scenes[{i}].visual.upload",
                )
        scenes.append({**scene, "visual": visual})
    return task_request.model_copy(update={"scenes": scenes})


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
    suffix = upload_suffix("font", uploads[0])
    with tempfile.TemporaryDirectory(prefix="reelsmith-preview-font-") as folder:
        path = Path(folder) / f"font{suffix}"
        uploads[0].save(path)
        check_font_upload(path, uploads[0])
        yield path


def upload_suffix(name: str, storage) -> str:
    """An uploaded file's suffix (lower case), if field ``name`` takes it."""
    suffix = Path(storage.filename).suffix.lower()
    allowed = CreateRequest.upload_fields()[name].suffixes
    if suffix not in allowed:
        raise BadRequest(
            f"{name}: {suffix or 'no suffix'} files are not accepted "
            f"(use {', '.join(sorted(allowed))})",
            name,
        )
    return suffix


def check_font_upload(path: Path, storage) -> None:
    problem = fonts.check_font_file(path)
    if problem:
        raise BadRequest(f"font: {storage.filename!r}: {problem}", "font")


def _media_ok(path: Path, kind: str) -> bool:
    if path.suffix in IMAGE_SUFFIXES:
        try:
            with Image.open(path) as img:
                img.verify()
            return True
        except Exception:
            return False
    log_text = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    return ("Audio:" in log_text) if kind in AUDIO_FIELDS else ("Video:" in log_text)


def check_narration_upload(path: Path, storage) -> None:
    """A narration within ``NARRATION_MAX_MB`` and ``NARRATION_MAX_SECONDS``
    (its length as ffmpeg reads it)."""
    megabytes = path.stat().st_size / 1e6
    if megabytes > NARRATION_MAX_MB:
        raise BadRequest(
            f"narration: {storage.filename!r} is {megabytes:.0f} MB, over {NARRATION_MAX_MB:g} MB",
            "narration",
        )
    log_text = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    found = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", log_text)
    seconds = int(found[1]) * 3600 + int(found[2]) * 60 + float(found[3]) if found else None
    if seconds is None or seconds > NARRATION_MAX_SECONDS:
        raise BadRequest(
            f"narration: {storage.filename!r} is "
            + ("of no length ffmpeg can read" if seconds is None else f"{seconds:.0f} s long")
            + f"; at most {NARRATION_MAX_SECONDS:g} s",
            "narration",
        )
