"""A size-bounded, thread-safe disk cache with per-entry TTL.

Each entry is one file ``<sha256 of key>.entry`` holding a pickled
``(key, expires_at, value)``. Writes go to a temporary file and are renamed
into place, so a reader never sees half an entry; an entry that cannot be
read is treated as a miss and removed. Reads touch the file's mtime, and
eviction removes the least recently used entries first.

Settings:

* ``cache_dir`` - folder for the entries (created if missing).
* ``default_ttl`` - seconds an entry lives unless ``set`` overrides it;
  ``None`` means forever.
* ``max_size_mb`` - when the entries together exceed this, the oldest are
  evicted; ``None`` means unbounded.
* ``eviction_percentage`` - how much to remove when over the limit, as a
  fraction of ``max_size_mb`` below the limit to aim for (0.2 = evict down
  to 80 % of the limit), so eviction does not run on every write.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_SUFFIX = ".entry"


def make_key(*parts: Any) -> str:
    """A stable string key from JSON-serialisable parts (order matters)."""
    return json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)


class Cache:
    def __init__(
        self,
        cache_dir: str | os.PathLike = ".cache",
        default_ttl: float | None = None,
        max_size_mb: float | None = 500.0,
        eviction_percentage: float = 0.2,
    ):
        if not 0 < eviction_percentage <= 1:
            raise ValueError("eviction_percentage must be in (0, 1]")
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.default_ttl = default_ttl
        self.max_size_mb = max_size_mb
        self.eviction_percentage = eviction_percentage
        self._lock = threading.RLock()
        self.hits = 0
        self.misses = 0

    # -- public API -------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        path = self._path(key)
        with self._lock:
            entry = self._read(path)
            if entry is None or entry[0] != key:
                self.misses += 1
                return default
            _, expires_at, value = entry
            if expires_at is not None and expires_at <= time.time():
                self._remove(path)
                self.misses += 1
                return default
            try:
                os.utime(path)  # mark as recently used
            except OSError:
                pass
            self.hits += 1
            return value

    def set(self, key: str, value: Any, ttl_override: float | None = None) -> None:
        ttl = self.default_ttl if ttl_override is None else ttl_override
        expires_at = None if ttl is None else time.time() + ttl
        data = pickle.dumps((key, expires_at, value), protocol=pickle.HIGHEST_PROTOCOL)
        path = self._path(key)
        with self._lock:
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
            self._evict_if_needed()

    def invalidate(self, key: str) -> bool:
        """Remove one entry. Returns True if it existed."""
        with self._lock:
            return self._remove(self._path(key))

    def clear(self) -> None:
        with self._lock:
            for path in self._entries():
                self._remove(path)

    def get_size(self) -> int:
        """Bytes used by all entries."""
        with self._lock:
            return sum(_size(p) for p in self._entries())

    def cleanup_expired(self) -> int:
        """Remove every expired or unreadable entry; returns how many."""
        removed = 0
        now = time.time()
        with self._lock:
            for path in self._entries():
                entry = self._read(path)
                if entry is None or (entry[1] is not None and entry[1] <= now):
                    removed += self._remove(path)
        return removed

    def __contains__(self, key: str) -> bool:
        sentinel = object()
        return self.get(key, sentinel) is not sentinel

    def __len__(self) -> int:
        return len(self._entries())

    # -- eviction ---------------------------------------------------------
    def _evict_if_needed(self) -> int:
        if self.max_size_mb is None:
            return 0
        limit = self.max_size_mb * 1024 * 1024
        if self.get_size() <= limit:
            return 0
        return self._evict_oldest(int(limit * (1 - self.eviction_percentage)))

    def _evict_oldest(self, target_bytes: int) -> int:
        """Remove least recently used entries until the total is <= target."""
        with self._lock:
            entries = []
            for p in self._entries():
                try:
                    st = p.stat()
                except FileNotFoundError:
                    continue
                entries.append((st.st_mtime, st.st_size, p))
            entries.sort(key=lambda e: e[0])
            total = sum(e[1] for e in entries)
            removed = 0
            for _, size, path in entries:
                if total <= target_bytes:
                    break
                if self._remove(path):
                    total -= size
                    removed += 1
            return removed

    # -- helpers ----------------------------------------------------------
    def _path(self, key: str) -> Path:
        if not isinstance(key, str):
            raise TypeError("cache keys are strings; build one with make_key()")
        return self.cache_dir / (hashlib.sha256(key.encode()).hexdigest() + _SUFFIX)

    def _entries(self) -> list[Path]:
        return list(self.cache_dir.glob("*" + _SUFFIX))

    def _read(self, path: Path):
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
            if not (isinstance(entry, tuple) and len(entry) == 3):
                raise ValueError("not a cache entry")
            return entry
        except FileNotFoundError:
            return None
        except Exception:  # corrupt or truncated entry: a miss, never a crash
            self._remove(path)
            return None

    def _remove(self, path: Path) -> bool:
        return _unlink(path)


def _unlink(path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
