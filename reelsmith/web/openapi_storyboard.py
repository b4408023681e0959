"""The OpenAPI description of the storyboard routes (web/storyboard.py) and of
revise (web/revise.py)."""

from __future__ import annotations

from reelsmith.visuals.scenes import VISUAL_KEYS
from reelsmith.web.openapi_schemas import (
    BINARY,
    NOT_FOUND,
    QUEUE_FULL,
    QUEUED_SCHEMA,
    REF,
    TASK_ID_PARAM,
    create_body,
    error,
    form_fields,
    json_body,
    op,
)

BOARD_SCENE = {
    "type": "object",
    "required": ["text", "visual", "thumbnail_url", "estimated_seconds"],
    "properties": {
        "text": {"type": "string"},
        "visual": {
            "type": "object",
            "required": list(VISUAL_KEYS),
            "properties": {key: {"type": ["string", "null"]} for key in VISUAL_KEYS},
        },
        "thumbnail_url": {"type": "string"},
        "estimated_seconds": {"type": "number"},
    },
}


def storyboard_paths(fields: dict, uploads: dict) -> dict:
    scenes = fields["scenes"]
    return {
        "/api/storyboard": {
            "post": op(
                "The scenes a create request would render: the script and the chosen "
                "visuals, each with a thumbnail (no voice, no render).",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["id", "scenes"],
                            "properties": {
                                "id": TASK_ID_PARAM["schema"],
                                "scenes": {"type": "array", "items": BOARD_SCENE},
                            },
                        }
                    ),
                    "422": json_body(
                        {
                            "type": "object",
                            "required": ["error", "stage"],
                            "properties": {
                                "error": {"type": "string"},
                                "stage": {"type": "string"},
                            },
                        },
                        "A stage failed, e.g. a scene's media URL is not an image or a video.",
                    ),
                },
                changes_state=True,
                operationId="createStoryboard",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": create_body(fields)},
                        "multipart/form-data": {
                            "schema": create_body({**form_fields(fields), **uploads})
                        },
                    },
                },
            )
        },
        "/api/storyboard/{board_id}/{index}.jpg": {
            "get": op(
                "A storyboard scene's thumbnail (board_id: a storyboard's or a task's id).",
                {
                    "200": {"description": "JPEG", "content": {"image/jpeg": BINARY}},
                    "404": error("No such storyboard or scene."),
                },
                operationId="getStoryboardThumbnail",
                parameters=[
                    {**TASK_ID_PARAM, "name": "board_id"},
                    {
                        "name": "index",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
            )
        },
        "/api/task/{task_id}/approve": {
            "post": op(
                "Let a task in review (created with review: true) go on to its render, "
                "with its storyboard's scenes or edited ones.",
                {
                    "202": json_body({"$ref": REF + "Task"}, "Queued again to render."),
                    "404": NOT_FOUND,
                    "409": error("The task is not in review."),
                },
                changes_state=True,
                operationId="approveTask",
                parameters=[TASK_ID_PARAM],
                requestBody={
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {"scenes": scenes},
                            }
                        }
                    },
                },
            )
        },
        "/api/task/{task_id}/revise": {
            "post": op(
                "A new video from a done one with these scenes (its other fields as they "
                "were): answers as create does; the new task's result has revision_of, and "
                "segments says which scenes were encoded again and which reused.",
                {
                    "202": json_body(QUEUED_SCHEMA, "Queued."),
                    "404": NOT_FOUND,
                    "409": error(
                        "The task is not done (the error names its status), or the files it "
                        "was made with are no longer on this machine."
                    ),
                    "503": QUEUE_FULL,
                },
                changes_state=True,
                operationId="reviseTask",
                parameters=[TASK_ID_PARAM],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["scenes"],
                                "additionalProperties": False,
                                "properties": {"scenes": scenes},
                            }
                        }
                    },
                },
            )
        },
    }
