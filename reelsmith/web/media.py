"""A finished task's files: the video, the subtitles (SRT, VTT, ASS), the thumbnail."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    request,
    send_file,
    stream_with_context,
)

from reelsmith.captions.presets import parse_style
from reelsmith.captions.subtitles import SUBTITLE_FORMATS
from reelsmith.core.exceptions import BadRequest
from reelsmith.core.storage import output_name
from reelsmith.render.timeline import Timeline
from reelsmith.tasks.model import TaskStatus
from reelsmith.web.common import DOWNLOADS, get_task_or_404, settings, storage

bp = Blueprint("media", __name__)


@bp.get("/api/task/<task_id>/subtitles")
def subtitles_file(task_id):
    """The captions as SRT (the file), or WebVTT / ASS with each word's timing."""
    fmt = request.args.get("format", "srt")
    if fmt not in SUBTITLE_FORMATS:
        raise BadRequest(f"format must be one of {', '.join(SUBTITLE_FORMATS)}", "format")
    if fmt == "srt":
        return download(task_id, "subtitles")
    task = get_task_or_404(task_id)
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}, not done")
    timeline = Timeline.from_result(task.result or {}, parse_style(task.request.caption_style))
    text = timeline.subtitles(fmt)
    response = current_app.response_class(text, mimetype=SUBTITLE_FORMATS[fmt])
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = (
            f"attachment; filename=reelsmith-{task.id[:8]}.{fmt}"
        )
    return response


@bp.get("/api/task/<task_id>/<kind>")
def download(task_id, kind):
    task = get_task_or_404(task_id)
    if kind not in DOWNLOADS:
        abort(404, description=f"unknown download {kind!r}")
    if task.status != TaskStatus.DONE:
        abort(409, description=f"task is {task.status.value}, not done")
    suffix, mimetype = DOWNLOADS[kind]
    files = storage()
    name = output_name(task.id, suffix)  # built from the id only
    path = files.local_path(name)
    if task.expired_at or not (path.is_file() if path else files.exists(name)):
        abort(
            410, description="the file is no longer available (removed after the retention period)"
        )
    as_attachment = request.args.get("download") == "1"
    if path is None:  # object storage: a short-lived link, or a stream through here
        if settings().storage.storage_presign:
            return redirect(files.presigned_url(name, expires=300))
        response = current_app.response_class(
            stream_with_context(files.open_stream(name)), mimetype=mimetype
        )
        if as_attachment:
            response.headers["Content-Disposition"] = (
                f"attachment; filename=reelsmith-{task.id[:8]}{suffix}"
            )
        return response
    return send_file(
        path,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=f"reelsmith-{task.id[:8]}{suffix}",
        conditional=True,
    )
