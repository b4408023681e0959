"""A size-bounded, thread- and process-safe disk cache with per-entry TTL.

Each entry is one file ``<sha256 of key>.entry`` holding a pickled
``(key, expires_at, value)``. Writes go to a temporary file and are renamed
into place, so a reader never sees half an entry; an entry that cannot be
read is treated as a miss and removed.

The cache keeps its own metadata in ``index.sqlite3`` in the same folder (as
diskcache does): one row per entry (file name, size, last access, expiry),
and a one-row ``totals`` table (entry count and bytes) that SQLite triggers
keep up to date on every insert, update and delete. So ``set`` never lists
or stats the folder: it renames the file and updates one row in one
transaction, then compares the running total with the limit. Eviction
removes the least recently used entries first (reads record their time).

Processes may share a folder: every change is one ``BEGIN IMMEDIATE``
transaction (the rename happens inside it, so file and row agree), WAL mode
lets readers go on meanwhile, and the index survives a restart. A folder
without an index (made by an older version, or the index was deleted or is
unreadable) is indexed once, when a Cache opens it. A file with no row (a
crash between the rename and the commit) is adopted by the next ``get``.

Like the entry files, the index is not fsynced (``PRAGMA synchronous=OFF``):
fsyncs at WAL checkpoints were what made the slowest writes slow. A process
that crashes loses nothing; a power cut or OS crash may lose the last
changes or damage the index, and since that always means a new process,
every Cache checks the index when it opens it (``PRAGMA quick_check``) and
builds a new one from the entry files if it is damaged.

Settings (the constructor's arguments; the app passes ``CACHE_DIR``,
``CACHE_TTL`` and ``CACHE_MAX_MB`` from config.py):

* ``cache_dir`` - folder for the entries and the index (created if missing).
  Default ``.cache``; the app's is ``CACHE_DIR`` (``instance/cache``).
* ``default_ttl`` - seconds an entry lives unless ``set`` overrides it with
  ``ttl_override``; ``None`` means forever. The app's is ``CACHE_TTL``
  (7 days).
* ``max_size_mb`` - when the entries' bytes together exceed this, the least
  recently used are evicted; ``None`` means unbounded. Default 500; the
  app's is ``CACHE_MAX_MB``. The index itself is not counted.
* ``eviction_percentage`` - how much to remove when over the limit, as a
  fraction of ``max_size_mb`` below the limit to aim for (0.2 = evict down
  to 80 % of the limit), so eviction does not run on every write. Must be
  in (0, 1].
* ``busy_timeout`` - seconds a write waits for another process's
  transaction on the index before giving up with ``sqlite3.OperationalError``
  (a ``get`` that cannot record its read time is still a hit, with a
  warning logged). Default 30.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SUFFIX = ".entry"
INDEX_NAME = "index.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    name TEXT PRIMARY KEY,       -- the entry's file name
    size INTEGER NOT NULL,       -- its bytes
    accessed REAL NOT NULL,      -- last set or get (time.time())
    expires_at REAL              -- NULL: never
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_access ON entries (accessed);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    count INTEGER NOT NULL,
    size INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals VALUES (0, 0, 0);
CREATE TRIGGER IF NOT EXISTS entries_insert AFTER INSERT ON entries BEGIN
    UPDATE totals SET count = count + 1, size = size + new.size WHERE id = 0;
END;
CREATE TRIGGER IF NOT EXISTS entries_delete AFTER DELETE ON entries BEGIN
    UPDATE totals SET count = count - 1, size = size - old.size WHERE id = 0;
END;
CREATE TRIGGER IF NOT EXISTS entries_resize AFTER UPDATE OF size ON entries BEGIN
    UPDATE totals SET size = size - old.size + new.size WHERE id = 0;
END;
"""
_UPSERT = (
    "INSERT INTO entries (name, size, accessed, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET size = excluded.size, accessed = excluded.accessed, "
    "expires_at = excluded.expires_at"
)
_TOUCH = (
    "INSERT INTO entries (name, size, accessed, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET accessed = excluded.accessed"
)


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
        busy_timeout: float = 30.0,
    ):
        if not 0 < eviction_percentage <= 1:
            raise ValueError("eviction_percentage must be in (0, 1]")
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.default_ttl = default_ttl
        self.max_size_mb = max_size_mb
        self.eviction_percentage = eviction_percentage
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._db_pid = 0
        self._inherited: list[sqlite3.Connection] = []
        self.hits = 0
        self.misses = 0
        with self._lock:
            self._connection()

    # -- public API -------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        path = self._path(key)
        try:
            data = path.read_bytes()
            entry = pickle.loads(data)
            if not (isinstance(entry, tuple) and len(entry) == 3):
                raise ValueError("not a cache entry")
        except FileNotFoundError:
            return self._miss(default)
        except Exception:  # corrupt or truncated entry: a miss, never a crash
            self._remove(path.name)
            return self._miss(default)
        stored_key, expires_at, value = entry
        if stored_key != key:
            return self._miss(default)
        now = time.time()
        if expires_at is not None and expires_at <= now:
            self._remove(path.name, expired_at=now)
            return self._miss(default)
        try:
            with self._transaction() as db:
                db.execute(_TOUCH, (path.name, len(data), now, expires_at))  # LRU order
        except sqlite3.OperationalError as exc:  # index busy past busy_timeout: still a hit
            log.warning("cache: could not record a read in the index: %s", exc)
        with self._lock:
            self.hits += 1
        return value

    def set(self, key: str, value: Any, ttl_override: float | None = None) -> None:
        ttl = self.default_ttl if ttl_override is None else ttl_override
        now = time.time()
        expires_at = None if ttl is None else now + ttl
        data = pickle.dumps((key, expires_at, value), protocol=pickle.HIGHEST_PROTOCOL)
        path = self._path(key)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with self._transaction() as db:
                os.replace(tmp, path)  # inside the transaction: file and row agree
                db.execute(_UPSERT, (path.name, len(data), now, expires_at))
                self._evict_if_needed()
        except BaseException:
            _unlink(tmp)
            raise

    def invalidate(self, key: str) -> bool:
        """Remove one entry. Returns True if it existed."""
        return self._remove(self._path(key).name)

    def clear(self) -> None:
        """Remove every entry."""
        with self._transaction() as db:
            for path in self.cache_dir.glob("*" + _SUFFIX):
                _unlink(path)
            db.execute("DELETE FROM entries")

    def get_size(self) -> int:
        """Bytes used by all entries (from the index: no folder scan)."""
        return self._totals()[1]

    def cleanup_expired(self) -> int:
        """Remove every expired or unreadable entry; returns how many.

        Expired entries come from the index; finding unreadable ones reads
        every entry file, so this is a maintenance call (a timer), not one
        for the request path."""
        now = time.time()
        with self._transaction() as db:
            names = [
                r[0] for r in db.execute("SELECT name FROM entries WHERE expires_at <= ?", (now,))
            ]
            removed = self._delete(db, names)
        for path in self.cache_dir.glob("*" + _SUFFIX):
            try:
                with open(path, "rb") as fh:
                    entry = pickle.load(fh)
                readable = isinstance(entry, tuple) and len(entry) == 3
            except FileNotFoundError:
                continue
            except Exception:
                readable = False
            if not readable:
                removed += self._remove(path.name)
        return removed

    def __contains__(self, key: str) -> bool:
        sentinel = object()
        return self.get(key, sentinel) is not sentinel

    def __len__(self) -> int:
        return self._totals()[0]

    # -- eviction ---------------------------------------------------------
    def _evict_if_needed(self) -> int:
        """Evict if the running total is over ``max_size_mb``; returns how many went."""
        if self.max_size_mb is None:
            return 0
        limit = self.max_size_mb * 1024 * 1024
        if self.get_size() <= limit:
            return 0
        return self._evict_oldest(int(limit * (1 - self.eviction_percentage)))

    def _evict_oldest(self, target_bytes: int) -> int:
        """Remove least recently used entries until the total is <= target."""
        with self._transaction() as db:
            total = db.execute("SELECT size FROM totals").fetchone()[0]
            victims = []
            for name, size in db.execute("SELECT name, size FROM entries ORDER BY accessed"):
                if total <= target_bytes:
                    break
                victims.append(name)
                total -= size
            return self._delete(db, victims)

    # -- index ------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """This process's connection (a forked child opens its own)."""
        if self._db is None or self._db_pid != os.getpid():
            if self._db is not None:
                # A connection inherited through fork() is the parent's: never use or
                # close it here (closing could disturb the parent's WAL); keep it referenced.
                self._inherited.append(self._db)
            index = self.cache_dir / INDEX_NAME
            try:
                self._db = self._open(index)
            except sqlite3.DatabaseError:  # damaged, or not a database: start a new index
                for suffix in ("", "-wal", "-shm"):
                    _unlink(index.with_name(index.name + suffix))
                self._db = self._open(index)
            self._db_pid = os.getpid()
        return self._db

    def _open(self, index: Path) -> sqlite3.Connection:
        db = sqlite3.connect(
            index, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # see the module docstring: a cache, no fsync
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the cache index is damaged")
            db.executescript(_SCHEMA)  # idempotent; executescript commits on its own
            with _begin(db):
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    self._index_existing_files(db)
                    db.execute("PRAGMA user_version = 1")
        except BaseException:
            db.close()
            raise
        return db

    def _index_existing_files(self, db: sqlite3.Connection) -> None:
        """Give every entry file already in the folder a row (run once per new index)."""
        for path in self.cache_dir.glob("*" + _SUFFIX):
            try:
                st = path.stat()
                with open(path, "rb") as fh:
                    expires_at = pickle.load(fh)[1]
            except FileNotFoundError:
                continue
            except Exception:  # unreadable: not an entry worth keeping
                _unlink(path)
                continue
            db.execute(
                "INSERT INTO entries VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (path.name, st.st_size, st.st_mtime, expires_at),
            )

    @contextlib.contextmanager
    def _transaction(self):
        """One write transaction on the index, under the thread lock; inside
        another one (the lock is held, so it is this thread's) it joins it."""
        with self._lock:
            db = self._connection()
            if db.in_transaction:
                yield db
            else:
                with _begin(db):
                    yield db

    def _totals(self) -> tuple[int, int]:
        with self._lock:
            return tuple(self._connection().execute("SELECT count, size FROM totals").fetchone())

    # -- helpers ----------------------------------------------------------
    def holds(self, digest: str) -> bool:
        """Whether the entry whose on-disk name is ``digest`` (the sha256 hex of
        its key, see ``digest``) is still here: files that belong to an entry
        (visuals.py's media copies) are kept only as long as it is."""
        return (self.cache_dir / (digest + _SUFFIX)).exists()

    @staticmethod
    def digest(key: str) -> str:
        """The on-disk name of ``key``'s entry, without its suffix."""
        return hashlib.sha256(key.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        if not isinstance(key, str):
            raise TypeError("cache keys are strings; build one with make_key()")
        return self.cache_dir / (self.digest(key) + _SUFFIX)

    def _miss(self, default: Any) -> Any:
        with self._lock:
            self.misses += 1
        return default

    def _remove(self, name: str, expired_at: float | None = None) -> bool:
        """Remove one entry; with ``expired_at``, only if it has not been set anew
        (by another thread or process) with a later expiry since it was read."""
        with self._transaction() as db:
            if expired_at is not None:
                row = db.execute(
                    "SELECT expires_at FROM entries WHERE name = ?", (name,)
                ).fetchone()
                if row and (row[0] is None or row[0] > expired_at):
                    return False
            return self._delete(db, [name]) > 0

    def _delete(self, db: sqlite3.Connection, names: list[str]) -> int:
        removed = sum(_unlink(self.cache_dir / name) for name in names)
        db.executemany("DELETE FROM entries WHERE name = ?", [(n,) for n in names])
        return removed


@contextlib.contextmanager
def _begin(db: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _unlink(path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
