"""The task API: create a video, follow it, list, cancel; the server's status."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from reelsmith.core import disk
from reelsmith.core.exceptions import BadRequest, QueueFull
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import TaskStatus
from reelsmith.voice.synthesizer import words_per_second
from reelsmith.web.common import (
    files,
    get_task_or_404,
    request_fields,
    services,
    settings,
    task_json,
    tasks,
)
from reelsmith.web.publish import publications_of
from reelsmith.web.uploads import bind_scene_uploads, save_uploads

bp = Blueprint("tasks", __name__)

MAX_BODY = 256 * 1024  # a JSON or form body without files


@bp.post("/api/create")
def create():
    if request.mimetype != "multipart/form-data" and (request.content_length or 0) > MAX_BODY:
        abort(
            413,
            description=f"the request body is over {MAX_BODY // 1024} KB "
            "(files go in a multipart upload)",
        )
    config = settings()
    free = files().low_space(config.storage.min_free_mb)
    if free is not None:
        return jsonify(
            error=f"disk full: {disk.format_mb(free)} MB free in DATA_DIR "
            f"({config.storage.data_dir}), below MIN_FREE_MB "
            f"({config.storage.min_free_mb:g}); free some space or lower MIN_FREE_MB",
            data_dir=str(config.storage.data_dir),
            free_mb=round(free, 1),
        ), 507
    task_request = CreateRequest.parse(request_fields(), config, files=_sent_files())
    originals: dict[str, str] = {}
    task_request = task_request.model_copy(update=save_uploads(files().uploads, originals))
    try:
        task_request = bind_scene_uploads(task_request, originals)
    except BadRequest:
        files().remove_uploads(task_request.uploads)
        raise
    try:
        task = tasks().submit(task_request)
    except QueueFull:  # a 503 (web/errors.py): nothing of the request is kept
        files().remove_uploads(task_request.uploads)
        raise
    return jsonify(task_id=task.id, status_url=url_for("tasks.task_status", task_id=task.id)), 202


def _sent_files() -> set[str]:
    """The upload fields that came with a file."""
    return {name for name in request.files if any(f.filename for f in request.files.getlist(name))}


@bp.get("/api/task/<task_id>")
def task_status(task_id):
    data = task_json(get_task_or_404(task_id))
    data["publications"] = publications_of(task_id)  # web/publish.py
    return jsonify(data)


@bp.post("/api/task/<task_id>/cancel")
def cancel(task_id):
    get_task_or_404(task_id)
    return jsonify(task_json(tasks().cancel(task_id)))


@bp.get("/api/task/<task_id>/events")
def events(task_id):
    get_task_or_404(task_id)
    return jsonify(events=tasks().store.events(task_id))


@bp.get("/api/tasks")
def list_tasks():
    queue = tasks()
    return jsonify(tasks=[task_json(t) for t in queue.locate(queue.store.list())])


@bp.get("/api/status")
def status():
    """What this server writes and speaks with, and its queue."""
    queue = tasks()
    return jsonify(
        writer=services().writer_status(),
        words_per_second=round(words_per_second("auto", 1.0, "en", settings()), 2),
        queued=queue.store.count(TaskStatus.QUEUED),
        running=queue.store.count(TaskStatus.RUNNING),
    )
