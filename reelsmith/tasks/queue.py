"""The in-process engine: worker threads draining a store's queued tasks.

On start every queued task is still in the store, in its original order, and
a task that was running when the process died is queued once more (a second
interruption fails it: lifecycle.py).
"""

from __future__ import annotations

import logging
import threading
import time

from reelsmith.core.exceptions import QueueFull
from reelsmith.core.storage import Files
from reelsmith.request import CreateRequest
from reelsmith.tasks.lifecycle import Lifecycle, Runner
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.store import TaskStore, locate

log = logging.getLogger(__name__)


class TaskQueue:
    """Worker threads running the queued tasks of a store, at most ``maxsize`` waiting."""

    def __init__(
        self,
        store: TaskStore,
        runner: Runner,
        *,
        workers: int = 1,
        maxsize: int = 100,
        files: Files | None = None,
    ):
        self.store = store
        self.runner = runner
        self.workers = workers
        self.maxsize = maxsize
        self.lifecycle = Lifecycle(store, files=files)
        self.webhooks = self.lifecycle.webhooks
        self._threads: list[threading.Thread] = []
        self._wakeup = threading.Condition()
        self._submitted = 0  # bumped (under _wakeup) so a waiting worker never misses a task
        self._stopping = threading.Event()
        self._interrupt = threading.Event()

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        """Recover tasks that were running when the process stopped, then start the workers (once)."""
        if self.started:
            return
        for task in self.store.with_status(TaskStatus.RUNNING):
            self.lifecycle.recover(task)
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
            self.interrupt()
            for t in self._threads:
                t.join(5.0)
        return not any(t.is_alive() for t in self._threads)

    def interrupt(self) -> None:
        """Make every running task stop at its next progress report and queue it again."""
        self._interrupt.set()

    def wait_until_stopping(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True once shutdown has begun."""
        return self._stopping.wait(timeout)

    def submit(self, request: CreateRequest) -> Task:
        if self._stopping.is_set():
            raise QueueFull("the server is shutting down")
        task = self.lifecycle.admit(request, self.maxsize)
        with self._wakeup:
            self._submitted += 1
            self._wakeup.notify()
        return task

    def approve(self, task_id: str, request: CreateRequest) -> bool:
        """Queue a task in review again, to render ``request``."""
        if not self.lifecycle.approve(task_id, request):
            return False
        with self._wakeup:
            self._submitted += 1
            self._wakeup.notify()
        return True

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued task now, or ask a running one to stop."""
        return self.lifecycle.cancel(task_id)

    def locate(self, tasks: list[Task]) -> list[Task]:
        """Each queued task's place in line and ETA (store.locate)."""
        return locate(self.store, tasks, self.workers)

    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._wakeup:
                seen = self._submitted
            task = self.lifecycle.claim()
            if task is None:
                with self._wakeup:
                    while self._submitted == seen and not self._stopping.is_set():
                        self._wakeup.wait()
                continue
            try:
                self.lifecycle.run(task, self.runner, self._interrupt)
            except Exception:  # never let one task kill the worker
                log.exception("task %s crashed the worker loop", task.id)
