"""Running one task on this machine, the same for the in-process workers and
the distributed workers: fetch its uploads from the storage, render it, and
publish its outputs. A render that fails or is interrupted publishes nothing
and leaves no temporary file. (Its uploads go when the task ends: lifecycle.py.)
"""

from __future__ import annotations

from collections.abc import Callable

from reelsmith.core.storage import Files
from reelsmith.tasks.lifecycle import Reporter
from reelsmith.tasks.model import Task

Render = Callable[[Task, Reporter], dict]  # the pipeline, writing Files.output_path(task.id)


def run_task(task: Task, report: Reporter, *, render: Render, files: Files) -> dict:
    """Fetch, render, publish: a runner (lifecycle.Runner) once ``render`` and
    ``files`` are bound (functools.partial)."""
    files.fetch_uploads(task.request.uploads)
    try:
        result = render(task, report)
    except BaseException:
        files.remove_temp_files(task.id)
        raise
    files.publish_outputs(task.id)
    return result
