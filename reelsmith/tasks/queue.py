"""Tasks: their lifecycle, the SQLite store that remembers them, and the
in-process worker threads that run them.

Lifecycle (every transition is stored as an event with a timestamp)::

    queued -> running -> done | failed | canceled
    queued -> canceled

The database is the queue: a worker claims the oldest queued task in one
transaction, so nothing queued lives only in memory. On start-up every
queued task is still there, in its original order, and a task that was
running when the process died is queued once more (a second interruption
fails it with "interrupted").
"""

from __future__ import annotations

import json
import logging
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path

from reelsmith.core.exceptions import QueueFull, ReelsmithError, TaskCanceled, TaskInterrupted  # noqa: F401 (QueueFull: importable from here too)
from reelsmith.request import CreateRequest

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
PROGRESS_EVERY = 0.5  # seconds between stored progress updates of one task (and at each new stage)


class TaskStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELED)


@dataclass
class Task:
    id: str
    request: CreateRequest
    status: TaskStatus = TaskStatus.QUEUED
    stage: str = "queued"
    progress: float = 0.0
    attempts: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error_stage: str | None = None
    error_message: str | None = None
    result: dict | None = None
    expired_at: float | None = None  # when retention removed the outputs
    # Set by TaskQueue.locate for a queued task (not stored): 1 = next to run,
    # and the seconds until it is done at the recent pace (None: no history yet).
    queue_position: int | None = None
    queue_eta_seconds: float | None = None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left, from the pace so far (None until there is a pace); for
        a queued task, from its place in line and the recent render pace."""
        if self.status == TaskStatus.QUEUED:
            return self.queue_eta_seconds
        if self.status != TaskStatus.RUNNING or not self.started_at or self.progress < 0.05:
            return None
        elapsed = time.time() - self.started_at
        return round(max(0.0, elapsed * (1 - self.progress) / self.progress), 1)

    def to_dict(self) -> dict:
        data = asdict(replace(self, request=None))  # the request is a model, not a dataclass
        data["request"] = self.request.to_dict()
        data["status"] = self.status.value
        data["progress"] = round(self.progress, 3)
        data["eta_seconds"] = self.eta_seconds
        del data["queue_eta_seconds"]
        data["error"] = (
            {"stage": self.error_stage, "message": self.error_message}
            if self.error_message
            else None
        )
        del data["error_stage"], data["error_message"]
        return data


class TaskStore:
    """SQLite (WAL) persistence for tasks and their transition history."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS tasks (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
                expired_at REAL
            );
            CREATE TABLE IF NOT EXISTS task_events (
                task_id TEXT NOT NULL,
                at REAL NOT NULL,
                status TEXT NOT NULL,
                message TEXT
            );
            CREATE INDEX IF NOT EXISTS task_events_by_task ON task_events(task_id);
            CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks(status, seq);
            """
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, task: Task) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO tasks (id, request, status, stage, progress, attempts, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    json.dumps(task.request.to_dict()),
                    task.status.value,
                    task.stage,
                    task.progress,
                    task.attempts,
                    task.created_at,
                ),
            )
            self._event(task.id, task.status, "created")

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return _row_to_task(row) if row else None

    def list(self, limit: int = 200) -> list[Task]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM tasks ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_row_to_task(r) for r in rows]

    def with_status(self, status: TaskStatus) -> list[Task]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM tasks WHERE status = ? ORDER BY seq", (status.value,)
            ).fetchall()
        return [_row_to_task(r) for r in rows]

    def count(self, status: TaskStatus) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM tasks WHERE status = ?", (status.value,)
            ).fetchone()[0]

    def queue_positions(self) -> dict[str, int]:
        """Every queued task's place in line (1 = the next to run)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM tasks WHERE status = 'queued' ORDER BY seq"
            ).fetchall()
        return {row["id"]: n for n, row in enumerate(rows, start=1)}

    def recent_durations(self, limit: int = 10) -> list[float]:
        """How long the last ``limit`` finished (done) tasks ran, in seconds."""
        with self._lock:
            rows = self._db.execute(
                "SELECT finished_at - started_at AS took FROM tasks WHERE status = 'done'"
                " AND started_at IS NOT NULL AND finished_at IS NOT NULL"
                " ORDER BY finished_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [row["took"] for row in rows]

    def claim_next(self) -> Task | None:
        """Move the oldest queued task to running (one transaction) and return it."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT id FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE tasks SET status = 'running', started_at = ?, attempts = attempts + 1,"
                " stage = 'starting', progress = 0 WHERE id = ?",
                (time.time(), row["id"]),
            )
            self._event(row["id"], TaskStatus.RUNNING, "started")
            task = self._db.execute("SELECT * FROM tasks WHERE id = ?", (row["id"],)).fetchone()
        return _row_to_task(task)

    def finished_before(self, when: float) -> list[Task]:
        """Done tasks whose outputs are still there and that ended before ``when``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM tasks WHERE status = 'done' AND expired_at IS NULL"
                " AND finished_at < ? ORDER BY seq",
                (when,),
            ).fetchall()
        return [_row_to_task(r) for r in rows]

    def record(self, task_id: str, message: str, **fields) -> None:
        """Store an event (and set ``fields``) without changing the status."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            if fields:
                assignments = ", ".join(f"{k} = ?" for k in fields)
                self._db.execute(
                    f"UPDATE tasks SET {assignments} WHERE id = ?", [*fields.values(), task_id]
                )
            row = self._db.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row:
                self._event(task_id, TaskStatus(row["status"]), message)

    def events(self, task_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, status, message FROM task_events WHERE task_id = ? ORDER BY rowid",
                (task_id,),
            ).fetchall()
        return [dict(r) for r in rows]

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
        sets = {"status": status.value, **fields}
        if "result" in sets and sets["result"] is not None:
            sets["result"] = json.dumps(sets["result"])
        assignments = ", ".join(f"{k} = ?" for k in sets)
        sql = f"UPDATE tasks SET {assignments} WHERE id = ?"
        params = [*sets.values(), task_id]
        if only_from:
            sql += f" AND status IN ({', '.join('?' * len(only_from))})"
            params += [s.value for s in only_from]
        with self._lock, self._db:
            self._db.execute("BEGIN")
            changed = self._db.execute(sql, params).rowcount == 1
            if changed:
                self._event(task_id, status, message)
        return changed

    def update_progress(self, task_id: str, stage: str, progress: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE tasks SET stage = ?, progress = ? WHERE id = ?", (stage, progress, task_id)
            )

    def _event(self, task_id: str, status: TaskStatus, message: str | None) -> None:
        self._db.execute(
            "INSERT INTO task_events (task_id, at, status, message) VALUES (?, ?, ?, ?)",
            (task_id, time.time(), status.value, message),
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


class WebhookSender:
    """POSTs a finished task's JSON to its ``webhook_url``, in the background,
    retrying with exponential backoff. Delivery is recorded as a task event;
    a failed webhook never changes the task's outcome.

    Unless ``allow_private`` (WEBHOOK_ALLOW_PRIVATE), the connection goes only
    to public addresses, checked when it is made (netguard.GuardedBackend): a
    URL whose name now resolves to a private address is refused, not retried."""

    def __init__(
        self,
        store: TaskStore,
        attempts: int = 4,
        first_delay: float = 0.5,
        timeout: float = 5.0,
        allow_private: bool = False,
    ):
        self.store = store
        self.attempts = attempts
        self.first_delay = first_delay
        self.timeout = timeout
        from reelsmith.core.netguard import GuardedBackend

        self._backend = GuardedBackend(allow_private=allow_private)
        self._pool = None
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    @property
    def allow_private(self) -> bool:
        return self._backend.allow_private

    @allow_private.setter
    def allow_private(self, value: bool) -> None:
        self._backend.allow_private = value  # read at every connection

    def _http(self):
        with self._lock:
            if self._pool is None:
                import httpcore

                self._pool = httpcore.ConnectionPool(network_backend=self._backend)
            return self._pool

    def send(self, task: Task) -> None:
        if not task.request.webhook_url:
            return
        thread = threading.Thread(
            target=self._deliver, args=(task,), daemon=True, name=f"webhook-{task.id[:8]}"
        )
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def _post(self, url: str, task: Task) -> int:
        body = json.dumps(task.to_dict()).encode()
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        response = self._http().request(
            "POST",
            url,
            content=body,
            extensions={"timeout": timeouts},
            headers={"Content-Type": "application/json", "User-Agent": "reelsmith-webhook"},
        )
        return response.status

    def _deliver(self, task: Task) -> None:
        from reelsmith.core.exceptions import UnsafeURL

        delay, problem = self.first_delay, ""
        for attempt in range(1, self.attempts + 1):
            try:
                status = self._post(task.request.webhook_url, task)
                if status < 300:
                    self.store.record(
                        task.id, f"webhook delivered (HTTP {status}, attempt {attempt})"
                    )
                    return
                problem = f"HTTP {status}"
            except UnsafeURL as exc:  # DNS changed since the task was created
                self.store.record(task.id, f"webhook refused: {exc}")
                return
            except Exception as exc:  # connection refused, timeout, bad URL...
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                time.sleep(delay)
                delay *= 2
        self.store.record(task.id, f"webhook failed after {self.attempts} attempts: {problem}")


# A runner does the work of one task: runner(task, report) -> result dict.
# ``report(stage, progress)`` records progress and raises TaskCanceled when
# the task has been canceled.
Reporter = Callable[[str, float], None]
Runner = Callable[[Task, Reporter], dict]


class TaskQueue:
    """Worker threads draining the queued tasks of a TaskStore, at most ``maxsize`` waiting."""

    def __init__(self, store: TaskStore, runner: Runner, *, workers: int = 1, maxsize: int = 100):
        self.store = store
        self.runner = runner
        self.workers = workers
        self.maxsize = maxsize
        self._threads: list[threading.Thread] = []
        self._submit_lock = threading.Lock()  # the size check and the insert are one step
        self._wakeup = threading.Condition()
        self._submitted = 0  # bumped (under _wakeup) so a waiting worker never misses a task
        self._cancel_requested: set[str] = set()
        self._cancel_lock = threading.Lock()
        self._stopping = threading.Event()
        self._interrupt = threading.Event()
        self.webhooks = WebhookSender(store)

    # -- lifecycle --------------------------------------------------------
    @property
    def started(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        """Recover tasks that were running when the process stopped, then start the workers (once)."""
        if self.started:
            return
        for task in self.store.with_status(TaskStatus.RUNNING):
            if task.attempts >= MAX_ATTEMPTS:
                self.store.transition(
                    task.id,
                    TaskStatus.FAILED,
                    message="interrupted twice",
                    finished_at=time.time(),
                    error_stage=task.stage,
                    error_message="interrupted: the server stopped twice while this task was running",
                )
            else:
                self.store.transition(
                    task.id,
                    TaskStatus.QUEUED,
                    message="re-queued after interruption",
                    stage="queued",
                    progress=0.0,
                )
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"task-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop taking work; give running tasks up to ``timeout`` s to finish.

        A task still running after that is interrupted at its next progress
        report and put back in the queue (status 'queued'), to run again on
        the next start. Returns True if every worker stopped.
        """
        self._stopping.set()
        with self._wakeup:
            self._wakeup.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            self._interrupt.set()
            for t in self._threads:
                t.join(5.0)
        return not any(t.is_alive() for t in self._threads)

    # -- API --------------------------------------------------------------
    def submit(self, request: CreateRequest) -> Task:
        if self._stopping.is_set():
            raise QueueFull("the server is shutting down")
        task = Task(id=uuid.uuid4().hex, request=request)
        with self._submit_lock:
            if self.store.count(TaskStatus.QUEUED) >= self.maxsize:
                raise QueueFull("the queue is full")
            self.store.add(task)
        with self._wakeup:
            self._submitted += 1
            self._wakeup.notify()
        return task

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued task now, or ask a running one to stop."""
        task = self.store.get(task_id)
        if task is None or task.status.finished:
            return task
        if self.store.transition(
            task_id,
            TaskStatus.CANCELED,
            message="canceled while queued",
            only_from=(TaskStatus.QUEUED,),
            finished_at=time.time(),
            stage="canceled",
        ):
            canceled = self.store.get(task_id)
            self.webhooks.send(canceled)
            return canceled
        with self._cancel_lock:
            self._cancel_requested.add(task_id)
        return self.store.get(task_id)

    def locate(self, tasks: list[Task], history: int = 10) -> list[Task]:
        """Fill in each queued task's ``queue_position`` (1 = next) and its ETA:
        the work ahead of it and its own, at the median pace of the last
        ``history`` finished tasks, shared by the workers. Returns ``tasks``."""
        queued = [t for t in tasks if t.status == TaskStatus.QUEUED]
        if not queued:
            return tasks
        positions = self.store.queue_positions()
        durations = self.store.recent_durations(history)
        pace = statistics.median(durations) if durations else None
        running_left = None
        if pace is not None and self.workers > 0:
            running_left = sum(
                t.eta_seconds if t.eta_seconds is not None else pace * (1 - t.progress)
                for t in self.store.with_status(TaskStatus.RUNNING)
            )
        for task in queued:
            task.queue_position = positions.get(task.id)
            if task.queue_position is not None and running_left is not None:
                ahead = running_left + pace * task.queue_position  # its own run included
                task.queue_eta_seconds = round(ahead / self.workers, 1)
        return tasks

    def wait_until_stopping(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True once shutdown has begun."""
        return self._stopping.wait(timeout)

    # -- worker -----------------------------------------------------------
    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._wakeup:
                seen = self._submitted
            task = self.store.claim_next()
            if task is None:
                with self._wakeup:
                    while self._submitted == seen and not self._stopping.is_set():
                        self._wakeup.wait()
                continue
            try:
                self._run(task)
            except Exception:  # never let one task kill the worker
                log.exception("task %s crashed the worker loop", task.id)

    def _run(self, task: Task) -> None:
        task_id = task.id

        stored = [0.0, ""]  # when, and at which stage, progress was last stored

        def report(stage: str, progress: float) -> None:
            """Called at every frame: cancel and shutdown answer at once, and the
            progress is stored at a new stage or every PROGRESS_EVERY seconds."""
            if task_id in self._cancel_requested:
                raise TaskCanceled("canceled by the user")
            if self._interrupt.is_set():
                raise TaskInterrupted("the server is shutting down")
            now = time.monotonic()
            if stage != stored[1] or now - stored[0] >= PROGRESS_EVERY:
                self.store.update_progress(task_id, stage, progress)
                stored[:] = [now, stage]
            task.stage = stage

        try:
            result = self.runner(task, report)
        except TaskInterrupted:
            self.store.transition(
                task_id,
                TaskStatus.QUEUED,
                stage="queued",
                progress=0.0,
                message="interrupted by shutdown; will run again on start",
            )
            return
        except TaskCanceled:
            self.store.transition(
                task_id,
                TaskStatus.CANCELED,
                message="canceled while running",
                finished_at=time.time(),
                stage="canceled",
            )
        except ReelsmithError as exc:
            self.store.transition(
                task_id,
                TaskStatus.FAILED,
                message=f"{exc.stage}: {exc.message}",
                finished_at=time.time(),
                error_stage=exc.stage,
                error_message=exc.message,
            )
        except Exception as exc:
            log.exception("task %s failed unexpectedly", task_id)
            self.store.transition(
                task_id,
                TaskStatus.FAILED,
                message=f"{task.stage}: {exc}",
                finished_at=time.time(),
                error_stage=task.stage,
                error_message=f"unexpected error: {type(exc).__name__}: {exc}",
            )
        else:
            self.store.transition(
                task_id,
                TaskStatus.DONE,
                message="finished",
                finished_at=time.time(),
                stage="done",
                progress=1.0,
                result=result,
            )
        finally:
            with self._cancel_lock:
                self._cancel_requested.discard(task_id)
        finished = self.store.get(task_id)
        if finished is not None and finished.status.finished:
            self.webhooks.send(finished)
