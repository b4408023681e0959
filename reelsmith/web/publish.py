"""Publishing a finished video: ``POST /api/task/<id>/publish`` (202, then the
upload runs in the background) and ``GET /api/accounts`` (which platforms are
connected, and as whom). A task's publications show in ``GET /api/task/<id>``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, url_for

from reelsmith.core.exceptions import AlreadyPublished, NotConnected
from reelsmith.publish.request import PublishRequest
from reelsmith.publish.runner import Publisher
from reelsmith.tasks.model import TaskStatus
from reelsmith.web.common import get_task_or_404, request_fields

bp = Blueprint("publish", __name__)


def publisher() -> Publisher:
    return current_app.extensions["reelsmith_publisher"]


def publications_of(task_id: str) -> list[dict]:
    """A task's publications, oldest first (for the task's JSON)."""
    found = current_app.extensions.get("reelsmith_publisher")
    return found.publications(task_id) if found else []


@bp.post("/api/task/<task_id>/publish")
def publish(task_id):
    task = get_task_or_404(task_id)
    req = PublishRequest.parse(request_fields())
    if task.status != TaskStatus.DONE or task.expired_at:
        abort(
            409,
            description=f"task is {task.status.value}, not done: only a finished video can be published",
        )
    pub = publisher().submit(task.id, task.result or {}, req)
    return jsonify(
        publication_id=pub.id,
        status_url=url_for("tasks.task_status", task_id=task.id),
    ), 202


@bp.get("/api/accounts")
def accounts():
    found = publisher()
    return jsonify(accounts=found.accounts.status(found.lookups()))


@bp.app_errorhandler(AlreadyPublished)
def already_published(exc: AlreadyPublished):
    return jsonify(error=exc.message, field="force", publication_id=exc.publication_id), 409


@bp.app_errorhandler(NotConnected)
def not_connected(exc: NotConnected):
    return jsonify(error=exc.message, field="platform"), 400
