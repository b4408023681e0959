"""The one place that moves a task between states, for both engines (the
worker threads of queue.py and the worker processes of distributed.py)::

    queued -> running -> done | failed | canceled
    queued -> canceled
    running -> queued    interrupted by a shutdown, or found running after
                         its process died (once)
    running -> failed    "interrupted" the second time

Every move is stored as an event. When a task ends, its webhook is sent and
its uploads are removed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from reelsmith.core.exceptions import QueueFull, ReelsmithError, TaskCanceled, TaskInterrupted
from reelsmith.core.storage import Files
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.store import TaskStore
from reelsmith.tasks.webhooks import WebhookSender

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
PROGRESS_EVERY = 0.5  # seconds between stored progress updates of one task (and at each new stage)

# A runner does the work of one task: runner(task, report) -> result dict.
# ``report(stage, progress)`` records progress and raises TaskCanceled when
# the task has been canceled (TaskInterrupted when the worker is stopping).
Reporter = Callable[[str, float], None]
Runner = Callable[[Task, Reporter], dict]


class Cancels(Protocol):
    """The running tasks asked to stop: CancelRequests in one process,
    distributed.RemoteCancels across machines."""

    def __contains__(self, task_id: str) -> bool: ...
    def add(self, task_id: str) -> None: ...
    def discard(self, task_id: str) -> None: ...


class CancelRequests:
    """The running tasks asked to stop, in this process."""

    def __init__(self):
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._ids

    def add(self, task_id: str) -> None:
        with self._lock:
            self._ids.add(task_id)

    def discard(self, task_id: str) -> None:
        with self._lock:
            self._ids.discard(task_id)


class Lifecycle:
    """Admit, claim, run, cancel, recover and end tasks of one store.

    ``cancels`` holds the cancel requests of running tasks (shared by every
    machine with the distributed engine); ``stopped`` names what stopping
    interrupts a task ("the server", "its worker"); ``files`` (when given)
    removes a task's uploads once it ends."""

    def __init__(
        self,
        store: TaskStore,
        *,
        files: Files | None = None,
        cancels: Cancels | None = None,
        stopped: str = "the server",
    ):
        self.store = store
        self.files = files
        self.cancels = CancelRequests() if cancels is None else cancels
        self.stopped = stopped
        self.webhooks = WebhookSender(store)
        self._admit_lock = threading.Lock()  # the size check and the insert are one step

    def admit(self, request: CreateRequest, maxsize: int) -> Task:
        """Store a new queued task, unless ``maxsize`` tasks are waiting (QueueFull)."""
        task = Task(id=uuid.uuid4().hex, request=request)
        with self._admit_lock:
            if self.store.count(TaskStatus.QUEUED) >= maxsize:
                raise QueueFull("the queue is full")
            self.store.add(task)
        return task

    def claim(self, task_id: str | None = None) -> Task | None:
        """Start ``task_id`` (None: the oldest queued task) if it is queued."""
        return self.store.claim_next() if task_id is None else self.store.claim(task_id)

    def recover(self, task: Task) -> bool:
        """A task found running after its process died: queued again the first
        time, failed "interrupted" the second. Returns whether it may run."""
        if task.attempts >= MAX_ATTEMPTS:
            if self.fail(
                task.id,
                task.stage,
                f"interrupted: {self.stopped} stopped twice while this task was running",
                event="interrupted twice",
                only_from=(TaskStatus.RUNNING,),
            ):
                self.end(task.id)
            return False
        return self.requeue(task.id, "re-queued after interruption")

    def approve(self, task_id: str, request: CreateRequest) -> bool:
        """A task in review queued again to render ``request`` (its approved
        scenes); False if it is not in review any more."""
        return self.store.transition(
            task_id,
            TaskStatus.QUEUED,
            message="approved: queued to render",
            only_from=(TaskStatus.REVIEW,),
            stage="queued",
            progress=0.0,
            attempts=0,
            finished_at=None,
            request=json.dumps(request.to_dict()),
        )

    def requeue(self, task_id: str, message: str) -> bool:
        return self.store.transition(
            task_id,
            TaskStatus.QUEUED,
            message=message,
            only_from=(TaskStatus.RUNNING,),
            stage="queued",
            progress=0.0,
        )

    def fail(
        self,
        task_id: str,
        stage: str,
        message: str,
        *,
        event: str | None = None,
        only_from: tuple[TaskStatus, ...] | None = None,
    ) -> bool:
        return self.store.transition(
            task_id, TaskStatus.FAILED, only_from=only_from, **_failure(stage, message, event)
        )

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued task now, or ask a running one to stop."""
        task = self.store.get(task_id)
        if task is None or task.status.finished:
            return task
        if self.store.transition(
            task_id,
            TaskStatus.CANCELED,
            only_from=(TaskStatus.QUEUED, TaskStatus.REVIEW),
            **_canceled(f"canceled while {task.status.value}"),
        ):
            return self.end(task_id)
        self.cancels.add(task_id)
        return self.store.get(task_id)

    def run(self, task: Task, runner: Runner, interrupt: threading.Event) -> TaskStatus:
        """Run a claimed task and store its outcome; returns its status after
        (queued when ``interrupt`` stopped it: it runs again later)."""
        try:
            status, fields = self._outcome(task, runner, interrupt)
        finally:
            self.cancels.discard(task.id)
        if status == TaskStatus.QUEUED:
            self.requeue(task.id, "interrupted by shutdown; will run again on start")
            return status
        if status == TaskStatus.REVIEW:  # keeps its uploads for the render to come
            self.store.transition(task.id, status, **fields)
            return status
        if status == TaskStatus.DONE and self.files is not None:  # for its revisions
            self.files.keep_uploads(task.request.uploads, task.request.lineage or task.id)
        else:
            self._remove_uploads(task)  # gone before the task says it ended
        self.store.transition(task.id, status, **fields)
        if task.request.webhook_url:
            self.webhooks.send(self.store.get(task.id))  # the task as it ended
        return status

    def _outcome(
        self, task: Task, runner: Runner, interrupt: threading.Event
    ) -> tuple[TaskStatus, dict]:
        """How running ``task`` ended: its new status and the fields to store."""
        try:
            result = runner(task, self._reporter(task, interrupt))
        except TaskInterrupted:
            return TaskStatus.QUEUED, {}
        except TaskCanceled:
            return TaskStatus.CANCELED, _canceled("canceled while running")
        except ReelsmithError as exc:
            return TaskStatus.FAILED, _failure(exc.stage, exc.message)
        except Exception as exc:
            log.exception("task %s failed unexpectedly", task.id)
            message = f"unexpected error: {type(exc).__name__}: {exc}"
            return TaskStatus.FAILED, _failure(task.stage, message, f"{task.stage}: {exc}")
        if task.request.review and isinstance(result, dict) and "storyboard" in result:
            return TaskStatus.REVIEW, {
                "message": "storyboard ready: waiting for approval",
                "finished_at": time.time(),  # when it stopped: retention counts from here
                "stage": "review",
                "progress": 0.25,
                "result": result,
            }
        done = {"message": "finished", "finished_at": time.time(), "stage": "done"}
        return TaskStatus.DONE, {**done, "progress": 1.0, "result": result}

    def end(self, task_id: str) -> Task | None:
        """A task that ended without running on: its uploads removed, its webhook sent."""
        task = self.store.get(task_id)
        if task is not None and task.status.finished:
            self._remove_uploads(task)
            self.webhooks.send(task)
        return task

    def _remove_uploads(self, task: Task) -> None:
        if self.files is not None:
            self.files.remove_uploads(task.request.uploads)

    def _reporter(self, task: Task, interrupt: threading.Event) -> Reporter:
        stored = [0.0, ""]  # when, and at which stage, progress was last stored

        def report(stage: str, progress: float) -> None:
            """Called at every frame: cancel and shutdown answer at once, and the
            progress is stored at a new stage or every PROGRESS_EVERY seconds."""
            if task.id in self.cancels:
                raise TaskCanceled("canceled by the user")
            if interrupt.is_set():
                raise TaskInterrupted("the server is shutting down")
            now = time.monotonic()
            if stage != stored[1] or now - stored[0] >= PROGRESS_EVERY:
                self.store.update_progress(task.id, stage, progress)
                stored[:] = [now, stage]
            task.stage = stage

        return report


def _failure(stage: str, message: str, event: str | None = None) -> dict:
    return {
        "message": event or f"{stage}: {message}",
        "finished_at": time.time(),
        "error_stage": stage,
        "error_message": message,
    }


def _canceled(event: str) -> dict:
    return {"message": event, "finished_at": time.time(), "stage": "canceled"}
