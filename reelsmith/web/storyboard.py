"""The storyboard: the scenes a request would render, before it is rendered.

* ``POST /api/storyboard`` writes the script and picks the visuals (no voice,
  no render) and answers the scenes, each with a thumbnail;
* ``GET /api/storyboard/<id>/<i>.jpg`` is a scene's thumbnail (the id is a
  storyboard's or a task's in review);
* ``POST /api/task/<id>/approve`` (optionally with edited ``scenes``) lets a
  task created with ``review: true`` go on to its render.
"""

from __future__ import annotations

import shutil
import uuid

from flask import Blueprint, abort, jsonify, send_file

from reelsmith.core.exceptions import ReelsmithError
from reelsmith.request import CreateRequest
from reelsmith.tasks.model import TaskStatus
from reelsmith.visuals.scenes import storyboard_dir
from reelsmith.web.common import (
    TASK_ID,
    files,
    get_task_or_404,
    request_fields,
    scenes_body,
    services,
    settings,
    task_json,
    tasks,
    with_scenes,
    with_thumbnail_urls,
)
from reelsmith.web.uploads import bind_scene_uploads, save_uploads

bp = Blueprint("storyboard", __name__)


@bp.post("/api/storyboard")
def storyboard():
    config = settings()
    board_request = CreateRequest.parse(request_fields(), config)
    originals: dict[str, str] = {}
    board_request = board_request.model_copy(
        update=save_uploads(files().uploads, originals), deep=True
    )
    board_id = uuid.uuid4().hex
    try:
        board_request = bind_scene_uploads(board_request, originals)
        scenes = services().storyboard(
            board_request, storyboard_dir(config.storage.data_dir, board_id)
        )
    except ReelsmithError as exc:  # e.g. a media URL that is not an image or a video
        return jsonify(error=exc.message, stage=exc.stage), 422
    finally:
        files().remove_uploads(board_request.uploads)
    return jsonify(id=board_id, scenes=with_thumbnail_urls(board_id, scenes))


@bp.get("/api/storyboard/<board_id>/<int:index>.jpg")
def thumbnail(board_id, index):
    if not TASK_ID.match(board_id):
        abort(404, description="no such storyboard")
    path = storyboard_dir(settings().storage.data_dir, board_id) / f"{index}.jpg"
    if not path.is_file():
        abort(404, description="no such thumbnail")
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.post("/api/task/<task_id>/approve")
def approve(task_id):
    task = get_task_or_404(task_id)
    if task.status != TaskStatus.REVIEW:
        abort(409, description=f"task is {task.status.value}, not in review")
    edited = scenes_body("approve")
    stored = task.request
    scenes = edited or [
        {
            "text": scene["text"],
            "visual": scene["visual"],
            "voice": given.get("voice"),
            "seconds": given.get("seconds"),
        }
        for scene, given in zip(
            (task.result or {}).get("storyboard", []),
            stored.scenes or [{}] * len((task.result or {}).get("storyboard", [])),
        )
    ]
    approved = with_scenes(stored, scenes, ("script", "scenes", "review"), review=False)
    uploads = {name: getattr(stored, name) for name in CreateRequest.upload_fields()}
    approved = bind_scene_uploads(approved.model_copy(update=uploads), {})
    if not tasks().approve(task.id, approved):
        abort(409, description="task is no longer in review")
    shutil.rmtree(storyboard_dir(settings().storage.data_dir, task.id), ignore_errors=True)
    return jsonify(task_json(tasks().store.get(task.id))), 202
