"""Free disk space: the check before a task is accepted, and the plain message
a task fails with when the disk fills up under it (ENOSPC)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from reelsmith.core.exceptions import ReelsmithError, StageFailed

ENOSPC_TEXT = os.strerror(errno.ENOSPC)  # "No space left on device" (also what ffmpeg prints)
SQLITE_FULL_TEXT = "database or disk is full"  # sqlite3.OperationalError (SQLITE_FULL)


def free_bytes(path: str | Path) -> int:
    """Free bytes for an unprivileged user on the file system holding ``path``
    (its nearest existing parent). Tests replace this function."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def free_mb(path: str | Path) -> float:
    return free_bytes(path) / (1024 * 1024)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or anything in its cause/context chain) is ENOSPC: an
    OSError with errno 28, or an error text saying so (ffmpeg's, SQLite's)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if ENOSPC_TEXT in str(exc) or SQLITE_FULL_TEXT in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_message(path: str | Path, label: str = "DATA_DIR") -> str:
    """``disk full: 2 MB free in DATA_DIR (/srv/reelsmith/instance)``."""
    return f"disk full: {format_mb(free_mb(path))} MB free in {label} ({path})"


def format_mb(mb: float) -> str:
    return f"{mb:.1f}" if mb < 10 else f"{mb:.0f}"


def disk_full_error(
    exc: BaseException, output_path: Path, storage, stage: str = "render"
) -> ReelsmithError | None:
    """If ``exc`` is ENOSPC (anywhere in its chain), the error a run fails
    with instead: its stage (else ``stage``), and the free space where the
    disk filled up (``storage``'s CACHE_DIR or DATA_DIR, or the output's folder)."""
    if not is_disk_full(exc):
        return None
    if isinstance(exc, ReelsmithError) and exc.stage != ReelsmithError.stage:
        stage = exc.stage
    filename = next(
        (str(e.filename) for e in _chain(exc) if isinstance(e, OSError) and e.filename), ""
    )
    for folder, label in ((storage.cache_dir, "CACHE_DIR"), (storage.data_dir, "DATA_DIR")):
        if filename and Path(filename).resolve().is_relative_to(Path(folder).resolve()):
            return StageFailed(disk_full_message(folder, label), stage=stage)
    data_dir = storage.data_dir
    if Path(output_path).resolve().is_relative_to(Path(data_dir).resolve()):
        return StageFailed(disk_full_message(data_dir, "DATA_DIR"), stage=stage)
    return StageFailed(
        disk_full_message(Path(output_path).parent, "the output folder"), stage=stage
    )


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def remove_partial_files(output_path: Path, since: float) -> None:
    """After a failed run: the temporary files of ``output_path`` (``.<stem>.*``:
    partial video, thumbnail, subtitles, work folders), and its subtitles and
    thumbnail if this run wrote them (written before the video's final rename)."""
    output_path = Path(output_path)
    for path in output_path.parent.glob(f".{output_path.stem}.*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif ".partial" in path.name:
            path.unlink(missing_ok=True)
    for path in (output_path.with_suffix(".srt"), output_path.with_suffix(".jpg")):
        try:
            if path.stat().st_mtime >= since - 1:
                path.unlink()
        except OSError:
            pass
