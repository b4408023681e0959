"""The task store of one machine: SQLite in WAL mode.

The database is the queue: a worker claims the oldest queued task in one
statement, so nothing queued lives only in memory.

Reads never wait for writes: every thread reads through its own connection
(WAL gives each read the last committed state), while writes go through one
connection, one at a time, each one statement: the event a write records
(``event``, ``event_at``) and the counts by status are added by triggers.
The WAL is copied into the database by a background thread rather than by
whichever commit crosses the threshold.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from pathlib import Path

from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus

CHECKPOINT_EVERY = 100  # write transactions between background WAL checkpoints
WAL_LIMIT = 8192  # frames (pages written) in the WAL before a checkpoint holds the writer

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY,  -- creation order (tasks are never deleted)
    id TEXT UNIQUE NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error_stage TEXT,
    error_message TEXT,
    result TEXT,
    expired_at REAL,
    event TEXT,  -- the message of its last event (set with every write that records one)
    event_at REAL
);
CREATE TABLE IF NOT EXISTS task_events (
    task_id TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT
);
CREATE INDEX IF NOT EXISTS task_events_by_task ON task_events(task_id);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks(status, seq);
CREATE INDEX IF NOT EXISTS tasks_done_by_finish ON tasks(finished_at) WHERE status = 'done';
CREATE TABLE IF NOT EXISTS task_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""

TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS task_events_add AFTER INSERT ON tasks BEGIN
    INSERT INTO task_events (task_id, at, status, message)
        VALUES (NEW.id, NEW.event_at, NEW.status, NEW.event);
END;
CREATE TRIGGER IF NOT EXISTS task_events_record AFTER UPDATE OF event_at ON tasks BEGIN
    INSERT INTO task_events (task_id, at, status, message)
        VALUES (NEW.id, NEW.event_at, NEW.status, NEW.event);
END;
CREATE TRIGGER IF NOT EXISTS task_counts_add AFTER INSERT ON tasks BEGIN
    INSERT INTO task_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS task_counts_move AFTER UPDATE OF status ON tasks
    WHEN OLD.status <> NEW.status BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO task_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS task_counts_remove AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = OLD.status;
END;
"""


class _Reader(sqlite3.Connection):
    """A thread's read connection (a subclass, so the store can hold it weakly:
    it closes when its thread ends)."""


def _connect(path: Path, factory=sqlite3.Connection) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, factory=factory)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class _Checkpointer:
    """Copies the WAL into the database on its own thread and connection, so
    that no commit waits for it (a passive checkpoint never blocks a reader
    or the writer). The next write after a checkpoint that caught up starts
    the WAL over; should writes never pause long enough for that, the
    checkpoint holds the writer's ``lock`` once the WAL is WAL_LIMIT frames."""

    def __init__(self, path: Path, lock: threading.Lock):
        self._lock = lock
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(
            target=self._loop, args=(path,), name="tasks-checkpoint", daemon=True
        )

    def poke(self) -> None:
        """Checkpoint soon (the thread starts at the first call, under the writer's lock)."""
        if self._thread.ident is None and not self._closing:
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(5.0)

    def _loop(self, path: Path) -> None:
        db = _connect(path)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closing:
                    return
                try:
                    _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= WAL_LIMIT:
                        with self._lock:
                            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # tried again after the next writes
        finally:
            db.close()


class SQLiteTaskStore:
    """SQLite (WAL) persistence for tasks and their transition history."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # the one writer
        self._db = _connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA wal_autocheckpoint=0")  # _Checkpointer's job
        self._db.executescript(SCHEMA)
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(tasks)")}
        for column in ("event TEXT", "event_at REAL"):  # a database from before them
            if column.split()[0] not in columns:
                self._db.execute(f"ALTER TABLE tasks ADD COLUMN {column}")
        self._db.executescript(TRIGGERS)
        with self._db:  # counts kept by the triggers, made right once at start
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM task_counts")
            self._db.execute(
                "INSERT INTO task_counts (status, n) SELECT status, COUNT(*) FROM tasks"
                " GROUP BY status"
            )
        self._writes = 0
        self._checkpointer = _Checkpointer(self.path, self._lock)
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()

    def close(self) -> None:
        self._checkpointer.close()
        with self._readers_lock:
            for reader in list(self._readers):
                reader.close()
        with self._lock:
            self._db.close()

    # -- reads: this thread's own connection ------------------------------
    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path, _Reader)
            db.execute("PRAGMA query_only=1")
            with self._readers_lock:
                self._readers.add(db)
        return db.execute(sql, params).fetchall()

    def get(self, task_id: str) -> Task | None:
        rows = self._read("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return _row_to_task(rows[0]) if rows else None

    def list(self, limit: int = 200) -> list[Task]:
        rows = self._read("SELECT * FROM tasks ORDER BY seq DESC LIMIT ?", (limit,))
        return [_row_to_task(r) for r in rows]

    def with_status(self, status: TaskStatus) -> list[Task]:
        rows = self._read("SELECT * FROM tasks WHERE status = ? ORDER BY seq", (status.value,))
        return [_row_to_task(r) for r in rows]

    def count(self, status: TaskStatus) -> int:
        rows = self._read("SELECT n FROM task_counts WHERE status = ?", (status.value,))
        return rows[0]["n"] if rows else 0

    def queue_positions(self, task_ids: list[str]) -> dict[str, int]:
        """The place in line of each of ``task_ids`` still queued (1 = the next to run)."""
        if not task_ids:
            return {}
        rows = self._read(
            "SELECT id, (SELECT COUNT(*) FROM tasks AS q WHERE q.status = 'queued'"
            " AND q.seq <= t.seq) AS place FROM tasks AS t"
            f" WHERE t.status = 'queued' AND t.id IN ({', '.join('?' * len(task_ids))})",
            tuple(task_ids),
        )
        return {row["id"]: row["place"] for row in rows}

    def recent_durations(self, limit: int = 10) -> list[float]:
        """How long the last ``limit`` finished (done) tasks ran, in seconds."""
        rows = self._read(
            "SELECT finished_at - started_at AS took FROM tasks INDEXED BY tasks_done_by_finish"
            " WHERE status = 'done'"
            " AND finished_at IS NOT NULL AND started_at IS NOT NULL"
            " ORDER BY finished_at DESC LIMIT ?",
            (limit,),
        )
        return [row["took"] for row in rows]

    def finished_before(self, when: float) -> list[Task]:
        """Done tasks whose outputs are still there and that ended before ``when``."""
        rows = self._read(
            "SELECT * FROM tasks WHERE status = 'done' AND expired_at IS NULL"
            " AND finished_at < ? ORDER BY seq",
            (when,),
        )
        return [_row_to_task(r) for r in rows]

    def events(self, task_id: str) -> list[dict]:
        rows = self._read(
            "SELECT at, status, message FROM task_events WHERE task_id = ? ORDER BY rowid",
            (task_id,),
        )
        return [dict(r) for r in rows]

    # -- writes: one at a time, each one statement -------------------------
    def _write(self, sql: str, params) -> tuple[int, list[sqlite3.Row]]:
        """Run one statement, its own transaction (triggers included), to its
        end; returns the rows it changed and those it returned."""
        with self._lock:
            cursor = self._db.execute(sql, params)
            rows = cursor.fetchall()  # committed once the statement is done
            self._writes += 1
            if self._writes % CHECKPOINT_EVERY == 0:
                self._checkpointer.poke()
            return cursor.rowcount, rows

    def add(self, task: Task) -> None:
        self._write(
            "INSERT INTO tasks (id, request, status, stage, progress, attempts, created_at,"
            " event, event_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?)",
            (
                task.id,
                json.dumps(task.request.to_dict()),
                task.status.value,
                task.stage,
                task.progress,
                task.attempts,
                task.created_at,
                time.time(),
            ),
        )

    def claim_next(self) -> Task | None:
        """Move the oldest queued task to running and return it."""
        if not self.count(TaskStatus.QUEUED):  # nothing to claim: the writer is left alone
            return None
        return self._claim(
            "(SELECT id FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1)", ()
        )

    def claim(self, task_id: str) -> Task | None:
        """Move ``task_id`` from queued to running; None if it is in another state."""
        return self._claim("? AND status = 'queued'", (task_id,))

    def _claim(self, which: str, params: tuple) -> Task | None:
        now = time.time()
        _, rows = self._write(
            "UPDATE tasks SET status = 'running', started_at = ?, attempts = attempts + 1,"
            " stage = 'starting', progress = 0, event = 'started', event_at = ?"
            f" WHERE id = {which} RETURNING *",
            (now, now, *params),
        )
        return _row_to_task(rows[0]) if rows else None

    def record(self, task_id: str, message: str, **fields) -> None:
        """Store an event (and set ``fields``) without changing the status."""
        self._update(task_id, {**fields, "event": message, "event_at": time.time()})

    def transition(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        message: str | None = None,
        only_from: tuple[TaskStatus, ...] | None = None,
        **fields,
    ) -> bool:
        """Move a task to ``status`` (and set ``fields``), recording the event.

        With ``only_from`` the change happens only if the task is currently
        in one of those states; returns whether it happened.
        """
        sets = {"status": status.value, **fields, "event": message, "event_at": time.time()}
        if sets.get("result") is not None:
            sets["result"] = json.dumps(sets["result"])
        return self._update(task_id, sets, only_from)

    def _update(self, task_id: str, sets: dict, only_from=None) -> bool:
        sql = f"UPDATE tasks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?"
        params = [*sets.values(), task_id]
        if only_from:
            sql += f" AND status IN ({', '.join('?' * len(only_from))})"
            params += [s.value for s in only_from]
        return self._write(sql, params)[0] == 1

    def update_progress(self, task_id: str, stage: str, progress: float) -> None:
        self._write(
            "UPDATE tasks SET stage = ?, progress = ? WHERE id = ?", (stage, progress, task_id)
        )


def _row_to_task(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        request=CreateRequest.from_stored(json.loads(row["request"])),
        status=TaskStatus(row["status"]),
        stage=row["stage"],
        progress=row["progress"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error_stage=row["error_stage"],
        error_message=row["error_message"],
        result=json.loads(row["result"]) if row["result"] else None,
        expired_at=row["expired_at"],
    )
