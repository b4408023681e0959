"""Retention: a finished task's outputs are removed RETENTION_DAYS after it
ended; the task stays, marked expired, with an event saying why. The rendered
scenes a line of revisions shares go when its last rendered task expires."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable

from reelsmith.core.storage import Files
from reelsmith.tasks.model import TaskStatus
from reelsmith.tasks.store import TaskStore

log = logging.getLogger(__name__)

JANITOR_EVERY = 3600.0  # seconds between two clean-ups


def expire_outputs(store: TaskStore, files: Files, max_age_seconds: float) -> int:
    """Remove the outputs of tasks that finished more than ``max_age_seconds``
    ago, and the uploads no task will use any more; returns how many tasks expired."""
    cutoff = time.time() - max_age_seconds
    expired = 0
    for task in store.finished_before(cutoff):
        files.remove_outputs(task.id)
        store.record(
            task.id,
            f"outputs removed after the retention period ({max_age_seconds / 86400:g} days)",
            expired_at=time.time(),
        )
        expired += 1
    for task in store.with_status(TaskStatus.REVIEW):  # never approved
        if (task.finished_at or task.created_at) < cutoff and store.transition(
            task.id,
            TaskStatus.CANCELED,
            message="expired in review after the retention period",
            only_from=(TaskStatus.REVIEW,),
            stage="canceled",
            expired_at=time.time(),
        ):
            files.remove_uploads(task.request.uploads)
            shutil.rmtree(files.data_dir / "storyboards" / task.id, ignore_errors=True)
            expired += 1
    files.remove_uploads_before(cutoff)  # e.g. left by a crash
    files.remove_segments_before(cutoff)  # lines of revisions whose last task expired
    return expired


def start_janitor(
    store: TaskStore,
    files: Files,
    max_age_seconds: float,
    wait_until_stopping: Callable[[float], bool],
) -> threading.Thread:
    """Expire outputs now and every JANITOR_EVERY s, until the queue stops."""

    def loop():
        while True:
            try:
                expire_outputs(store, files, max_age_seconds)
            except Exception:
                log.exception("retention cleanup failed")
            if wait_until_stopping(JANITOR_EVERY):
                return

    thread = threading.Thread(target=loop, name="retention", daemon=True)
    thread.start()
    return thread
