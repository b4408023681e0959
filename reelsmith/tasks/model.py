"""What a task is: its status, the request it carries, and its stored record.

Lifecycle (lifecycle.py moves tasks between these; every move is an event)::

    queued -> running -> done | failed | canceled
    queued -> canceled
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import Enum


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
class TaskRequest:
    """What the user asked for. Validated by the API before it is queued."""

    topic: str
    script: str | None = None  # the user's own script: skips the LLM
    voice: str = "auto"  # auto | piper | gtts | espeak
    language: str = "en"
    length: int = 30  # target seconds
    tone: str = "informative"
    aspect: str = "9:16"  # 9:16 | 16:9 | 1:1
    fresh: bool = False  # bypass the script cache
    webhook_url: str | None = None  # gets a JSON POST when the task ends
    music: str | None = None  # an uploaded file's generated name (in uploads/)
    backgrounds: list[str] = field(default_factory=list)  # uploaded images / clips, in order
    font: str | None = None  # an uploaded caption font's generated name (in uploads/)
    speed: float = 1.0  # narration speed, 0.5-2.0
    caption_style: dict | str | None = None  # a preset name or a style object (captions.py)
    visuals: str = "auto"  # auto or a visual source name
    transition: str = "cut"  # cut | crossfade | slide
    transition_seconds: float = 0.5

    @property
    def uploads(self) -> list[str]:
        """The generated names of every file uploaded with this request."""
        return [name for name in (self.music, self.font, *self.backgrounds) if name]

    @classmethod
    def from_dict(cls, data: dict) -> TaskRequest:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class Task:
    id: str
    request: TaskRequest
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
            "request": asdict(self.request),
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
