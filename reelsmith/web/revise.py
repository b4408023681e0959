"""Revising a finished video: ``POST /api/task/<id>/revise {scenes}``.

A revision is a new task: the original's request with the new scenes, and
``revision_of`` (the original) and ``lineage`` (the first video of the line)
set. Every task renders scene by scene into its line's segments folder
(``Files.segments_dir``), so a revision re-encodes only the scenes whose frames
changed; its result's ``segments`` says which were encoded and which reused.
The MCP tool ``revise_video`` and ``flask --app app revise`` call this endpoint.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, url_for

from reelsmith.core.exceptions import BadRequest
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.web.common import files, get_task_or_404, scenes_body, tasks, with_scenes
from reelsmith.web.uploads import bind_scene_uploads

bp = Blueprint("revise", __name__)

# Not carried over to a revision: its scenes replace these.
REPLACED = ("script", "scenes", "review", "revision_of", "lineage")


def revision_request(task: Task, scenes) -> CreateRequest:
    """The request of a revision of ``task`` (done) with ``scenes``, checked as
    create checks them: a bad one is ``BadRequest`` naming ``scenes[i]...``.
    The original's uploaded files (kept with its line's segments) are copied
    back for it; a scene's ``upload`` names one of them."""
    if scenes is None:
        raise BadRequest("scenes is required: the revised video's scenes", "scenes")
    stored = task.request
    revised = with_scenes(stored, scenes, REPLACED)
    if not revised.scenes:
        raise BadRequest("scenes is required: the revised video's scenes", "scenes")
    lineage = stored.lineage or task.id
    copies = restored_uploads(stored, lineage)
    try:
        uploads = {
            name: [copies.get(n, n) for n in value]
            if isinstance(value, list)
            else copies.get(value, value)
            for name in CreateRequest.upload_fields()
            if (value := getattr(stored, name))
        }
        revised = revised.model_copy(  # published only when asked again
            update={**uploads, "publish": None, "revision_of": task.id, "lineage": lineage}
        )
        return bind_scene_uploads(revised, copies)
    except BaseException:
        files().remove_uploads(copies.values())
        raise


def restored_uploads(stored: CreateRequest, lineage: str) -> dict[str, str]:
    """Each upload of ``stored``: its name -> the name of its copy for the
    revision; 409 when one is gone (e.g. made on another machine)."""
    copies: dict[str, str] = {}
    for name in stored.uploads:
        copy = files().restore_upload(name, lineage)
        if copy is None:
            files().remove_uploads(copies.values())
            abort(
                409,
                description="this video's uploaded files (music, font or pictures) are no "
                "longer here: create a new video instead",
            )
        copies[name] = copy
    return copies


@bp.post("/api/task/<task_id>/revise")
def revise(task_id):
    task = get_task_or_404(task_id)
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}: only a done task can be revised")
    revised = revision_request(task, scenes_body("revise"))
    try:
        new = tasks().submit(revised)  # QueueFull: a 503 (web/errors.py)
    except BaseException:
        files().remove_uploads(revised.uploads)
        raise
    return jsonify(task_id=new.id, status_url=url_for("tasks.task_status", task_id=new.id)), 202
