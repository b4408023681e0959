"""Revising a finished video: ``POST /api/task/<id>/revise {scenes}``.

A revision is a new task: the original's request with the new scenes, and
``revision_of`` (the original) and ``lineage`` (the first video of the line)
set. Every task renders scene by scene into its line's segments folder
(``Files.segments_dir``), so a revision re-encodes only the scenes whose frames
changed; its result's ``segments`` says which were encoded and which reused.
The MCP tool ``revise_video`` and ``flask --app app revise`` call this endpoint.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from reelsmith.core.exceptions import BadRequest
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.web.common import get_task_or_404, settings, tasks

bp = Blueprint("revise", __name__)

# Not carried over to a revision: its scenes replace these.
REPLACED = ("script", "scenes", "review", "revision_of", "lineage")


def revision_request(task: Task, scenes) -> CreateRequest:
    """The request of a revision of ``task`` (done) with ``scenes``, checked as
    create checks them: a bad one is ``BadRequest`` naming ``scenes[i]...``."""
    if scenes is None:
        raise BadRequest("scenes is required: the revised video's scenes", "scenes")
    stored = task.request
    if stored.uploads:
        abort(
            409,
            description="this video was made with uploaded files (music, font or backgrounds), "
            "removed when it ended: create a new video instead",
        )
    fields = {
        k: v
        for k, v in stored.to_dict().items()
        if k in CreateRequest.client_fields() and k not in REPLACED
    }
    revised = CreateRequest.parse({**fields, "scenes": scenes}, settings())
    if not revised.scenes:
        raise BadRequest("scenes is required: the revised video's scenes", "scenes")
    revised = revised.model_copy(update={"publish": None})  # published only when asked again
    return revised.model_copy(update={"revision_of": task.id, "lineage": stored.lineage or task.id})


@bp.post("/api/task/<task_id>/revise")
def revise(task_id):
    task = get_task_or_404(task_id)
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}: only a done task can be revised")
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    unknown = [k for k in body if k != "scenes"]
    if unknown:
        raise BadRequest(f"{unknown[0]!r} is not a field (revise takes scenes)", str(unknown[0]))
    revised = revision_request(task, body.get("scenes"))
    new = tasks().submit(revised)  # QueueFull: a 503 (web/errors.py)
    return jsonify(task_id=new.id, status_url=url_for("tasks.task_status", task_id=new.id)), 202
