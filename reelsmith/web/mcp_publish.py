"""The MCP tool ``publish_video``: POST /api/task/<id>/publish, its arguments
derived from ``PublishRequest`` (so the API's checks and messages apply)."""

from __future__ import annotations

import inspect
from typing import Any

from reelsmith.publish.request import PublishRequest

PUBLISH_VIDEO = (
    "Publish a done video to YouTube or TikTok: only when the creator asked for it. "
    "YouTube needs made_for_kids (true or false); privacy is private unless given; "
    "TikTok goes to the creator's inbox as a draft unless direct is true. Returns the "
    "publication id and the task, whose 'publications' show status (queued, uploading, "
    "published, failed), progress, url and error; poll get_task to follow it."
)


def publish_video_tool(api, argument):
    """``publish_video(task_id, platform, ...)``: ``api`` is mcp_server's
    ReelsmithApi, ``argument`` its keyword-argument maker."""

    def publish_video(task_id: str, **arguments) -> dict[str, Any]:
        body = {
            k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in arguments.items()
            if v is not None
        }
        created = api.call("POST", api.task_path(task_id, "/publish"), body)
        task = api.call("GET", created["status_url"])
        return {"publication_id": created["publication_id"], "publications": task["publications"]}

    schemas = PublishRequest.model_json_schema()["properties"]
    parameters = [inspect.Parameter("task_id", inspect.Parameter.KEYWORD_ONLY, annotation=str)]
    for name, field in PublishRequest.model_fields.items():
        kind = (
            field.annotation
            if field.is_required() or field.default is not None
            else field.annotation | None
        )
        default = inspect.Parameter.empty if field.is_required() else field.default
        schema = {k: v for k, v in schemas[name].items() if k != "title"}
        parameters.append(argument(name, kind, default, schema))
    publish_video.__signature__ = inspect.Signature(parameters, return_annotation=dict[str, Any])
    return publish_video
