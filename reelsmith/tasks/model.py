"""What a task is: its status, the request it carries, and its stored record.

Lifecycle (lifecycle.py moves tasks between these; every move is an event)::

    queued -> running -> done | failed | canceled
    queued -> canceled
    running -> review (a request with review: its storyboard) -> queued (approved) | canceled
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum

from reelsmith.request import CreateRequest


class TaskStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"
    REVIEW = "review"  # stopped after the storyboard, until approved

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
    # Set by store.locate for a queued task (not stored): 1 = next to run,
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
        """The task's JSON (API, webhooks): the stored fields in order, then its ETA and error."""
        return {
            "id": self.id,
            "request": self.request.to_dict(),
            "status": self.status.value,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "attempts": self.attempts,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "expired_at": self.expired_at,
            "queue_position": self.queue_position,
            "eta_seconds": self.eta_seconds,
            "error": (
                {"stage": self.error_stage, "message": self.error_message}
                if self.error_message
                else None
            ),
        }
