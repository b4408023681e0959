"""Fetched files through the disk cache: the bytes live in the cache
(size-bounded, TTL), and a copy on disk gives the renderer a path."""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

from cache import Cache
from reelsmith.core.exceptions import SourceUnavailable


def media_file(cache: Cache, key: str, suffix: str | None, fetch) -> Path:
    """A file holding the bytes cached under ``key`` (``fetch()`` on a miss).

    The cache (size-bounded, TTL) is where the bytes live; the renderer needs a
    path, so they are also written once to ``<cache>/media/``, named by the
    entry's digest: a copy whose entry the cache has evicted, or that went
    unused for longer than the cache's TTL, is removed, so the copies stay
    within the cache's own bound. ``suffix`` None: from the image's own format
    (and a reply that is not an image fails)."""
    data = cache.get(key)
    if data is None:
        data = fetch()
        if suffix is None:
            suffix = _image_suffix(data)
        cache.set(key, data)
    elif suffix is None:
        suffix = _image_suffix(data)
    folder = Path(cache.cache_dir) / "media"
    path = folder / (cache.digest(key) + suffix)
    if path.exists():
        os.utime(path)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder, cache)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path


def _prune(folder: Path, cache: Cache) -> None:
    """Remove the media copies whose cache entry is gone or that are unused
    for longer than the cache's TTL."""
    cutoff = time.time() - cache.default_ttl if cache.default_ttl else None
    for entry in os.scandir(folder):
        digest = entry.name.split(".")[0]
        evicted = not entry.name.endswith(".part") and not cache.holds(
            digest
        )  # (.part: being written)
        try:
            if evicted or (cutoff and entry.stat().st_mtime < cutoff):
                os.unlink(entry.path)
        except FileNotFoundError:
            pass


def _image_suffix(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = (img.format or "").lower()
    except (UnidentifiedImageError, OSError) as exc:
        raise SourceUnavailable("the reply was not an image") from exc
    return {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}.get(fmt, ".png")
