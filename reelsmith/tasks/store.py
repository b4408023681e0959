"""What the queues and the web need from a task store, and the queue
position and ETA worked out from it.

Two stores implement ``TaskStore``: ``SQLiteTaskStore`` (one machine,
sqlite_store.py) and ``RedisTaskStore`` (shared by every machine,
redis_store.py). Every transition is stored as an event with a timestamp.
"""

from __future__ import annotations

import statistics
from typing import Protocol

from reelsmith.tasks.model import Task, TaskStatus


class TaskStore(Protocol):
    def add(self, task: Task) -> None: ...
    def get(self, task_id: str) -> Task | None: ...
    def list(self, limit: int = 200) -> list[Task]: ...  # newest first
    def with_status(self, status: TaskStatus) -> list[Task]: ...  # oldest first
    def count(self, status: TaskStatus) -> int: ...
    def queue_positions(self, task_ids: list[str]) -> dict[str, int]: ...  # 1 = next
    def recent_durations(self, limit: int = 10) -> list[float]: ...  # seconds, newest first
    def claim_next(self) -> Task | None: ...  # the oldest queued task, now running
    def claim(self, task_id: str) -> Task | None: ...  # this queued task, now running
    def finished_before(self, when: float) -> list[Task]: ...  # done, outputs not expired
    def record(self, task_id: str, message: str, **fields) -> None: ...  # event, same status
    def events(self, task_id: str) -> list[dict]: ...

    def transition(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        message: str | None = None,
        only_from: tuple[TaskStatus, ...] | None = None,
        **fields,
    ) -> bool: ...  # whether it happened (with only_from: only from those states)

    def update_progress(self, task_id: str, stage: str, progress: float) -> None: ...
    def close(self) -> None: ...


def locate(store: TaskStore, tasks: list[Task], workers: int, history: int = 10) -> list[Task]:
    """Fill in each queued task's ``queue_position`` (1 = next) and its ETA:
    the work ahead of it and its own, at the median pace of the last
    ``history`` finished tasks, shared by ``workers``. Returns ``tasks``."""
    queued = [t for t in tasks if t.status == TaskStatus.QUEUED]
    if not queued:
        return tasks
    positions = store.queue_positions([t.id for t in queued])
    durations = store.recent_durations(history)
    pace = statistics.median(durations) if durations else None
    running_left = None
    if pace is not None and workers > 0:
        running_left = sum(
            t.eta_seconds if t.eta_seconds is not None else pace * (1 - t.progress)
            for t in store.with_status(TaskStatus.RUNNING)
        )
    for task in queued:
        task.queue_position = positions.get(task.id)
        if task.queue_position is not None and running_left is not None:
            ahead = running_left + pace * task.queue_position  # its own run included
            task.queue_eta_seconds = round(ahead / workers, 1)
    return tasks
