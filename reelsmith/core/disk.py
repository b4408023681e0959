"""Free disk space: the check before a task is accepted, and the plain message
a task fails with when the disk fills up under it (ENOSPC)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

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
