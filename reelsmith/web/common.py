"""What every blueprint shares: the app's parts, a request's fields, a task's JSON.

The app factory (``app.create_app``) puts the task queue in
``app.extensions["reelsmith"]``, its paths and storage in ``["reelsmith_files"]``,
the pipeline's services in ``["reelsmith_services"]`` and the settings in
``app.config["SETTINGS"]``; views reach them through the functions here.
"""

from __future__ import annotations

import re

from flask import abort, current_app, request, url_for

from reelsmith.core.exceptions import BadRequest
from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files, Storage
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.queue import TaskQueue
from reelsmith.web.services import PipelineServices

TASK_ID = re.compile(r"^[0-9a-f]{32}$")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
DOWNLOADS = {  # name in the URL -> (file suffix, mimetype)
    "video": (".mp4", "video/mp4"),
    "subtitles": (".srt", "application/x-subrip"),
    "thumbnail": (".jpg", "image/jpeg"),
}


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def tasks() -> TaskQueue:
    return current_app.extensions["reelsmith"]


def files() -> Files:
    """Every path: uploads, outputs, temporary files (core/storage.py)."""
    return current_app.extensions["reelsmith_files"]


def storage() -> Storage:
    """Where outputs and shared uploads live (a folder or S3)."""
    return files().storage


def services() -> PipelineServices:
    return current_app.extensions["reelsmith_services"]


def request_fields() -> dict:
    """The request's fields: a form's (as text), or a JSON body's (an object)."""
    if request.mimetype in FORM_TYPES:
        return request.form.to_dict()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    return data


def task_json(task: Task) -> dict:
    """A task as the API shows it: with its place in line, status URL and links."""
    if task.status == TaskStatus.QUEUED and task.queue_position is None:
        tasks().locate([task])  # queue_position and eta_seconds
    data = task.to_dict()
    data["status_url"] = url_for("tasks.task_status", task_id=task.id)
    if task.status == TaskStatus.REVIEW and isinstance(task.result, dict):
        board = with_thumbnail_urls(task.id, task.result.get("storyboard") or [])
        data["result"] = {**task.result, "storyboard": board}
    if task.status == TaskStatus.DONE and not task.expired_at:
        data["links"] = {
            name: url_for("media.download", task_id=task.id, kind=name) for name in DOWNLOADS
        }
    return data


def with_thumbnail_urls(board_id: str, scenes: list[dict]) -> list[dict]:
    """A storyboard's scenes, each with the URL of its thumbnail (``<i>.jpg``)."""
    return [
        {**scene, "thumbnail_url": url_for("storyboard.thumbnail", board_id=board_id, index=i)}
        for i, scene in enumerate(scenes)
    ]


def get_task_or_404(task_id: str) -> Task:
    task = tasks().store.get(task_id) if TASK_ID.match(task_id) else None
    if task is None:
        abort(404, description=f"no task with id {task_id!r}")
    return task


def scenes_body(action: str):
    """The ``scenes`` of a JSON body that may carry nothing else (approve,
    revise); None when not given. Another field is BadRequest naming it."""
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    unknown = [k for k in body if k != "scenes"]
    if unknown:
        raise BadRequest(f"{unknown[0]!r} is not a field ({action} takes scenes)", str(unknown[0]))
    return body.get("scenes")


def with_scenes(
    stored: CreateRequest, scenes, set_aside: tuple[str, ...], **fields
) -> CreateRequest:
    """``stored``'s values (but its files, and ``set_aside``) with these
    ``scenes`` and ``fields``, checked as create checks them: a bad scene is
    ``BadRequest`` naming e.g. ``scenes[1].text``."""
    kept = {
        k: v
        for k, v in stored.to_dict().items()
        if k in CreateRequest.client_fields() and k not in set_aside
    }
    return CreateRequest.parse({**kept, **fields, "scenes": scenes}, settings())
