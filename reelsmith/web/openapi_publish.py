"""The OpenAPI description of publishing (web/publish.py): the publish request
is PublishRequest's own schema, so it cannot drift from what the API checks."""

from __future__ import annotations

from reelsmith.publish.request import PLATFORMS, PublishRequest
from reelsmith.publish.store import STATUSES
from reelsmith.web.openapi_schemas import NOT_FOUND, TASK_ID_PARAM, error, json_body, op

NULLABLE_STRING = {"type": ["string", "null"]}


def publish_schemas() -> dict:
    return {
        "Publication": {
            "type": "object",
            "required": ["id", "platform", "status", "progress", "url", "remote_id", "error"],
            "properties": {
                "id": {"type": "string"},
                "platform": {"type": "string", "enum": list(PLATFORMS)},
                "account": {**NULLABLE_STRING, "description": "As whom, when known."},
                "status": {"type": "string", "enum": list(STATUSES)},
                "progress": {"type": "number", "minimum": 0, "maximum": 1},
                "url": NULLABLE_STRING,
                "remote_id": {
                    **NULLABLE_STRING,
                    "description": "YouTube's video id; TikTok's publish_id.",
                },
                "error": {
                    **NULLABLE_STRING,
                    "description": "Why it failed, with the platform's reason.",
                },
                "notes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "What went differently: resumed, locked private, account unknown...",
                },
            },
        }
    }


def publish_paths() -> dict:
    account = {
        "type": "object",
        "required": ["platform", "connected", "source", "account"],
        "properties": {
            "platform": {"type": "string", "enum": list(PLATFORMS)},
            "connected": {"type": "boolean"},
            "source": {"type": ["string", "null"], "enum": ["environment", "stored", None]},
            "account": NULLABLE_STRING,
            "lookup_error": {"type": "string"},
            "connect": {"type": "string", "description": "The command that connects it."},
        },
    }
    return {
        "/api/task/{task_id}/publish": {
            "post": op(
                "Publish a finished video to YouTube or TikTok. Answers at once; the "
                "upload runs in the background and shows in the task's publications.",
                {
                    "202": json_body(
                        {
                            "type": "object",
                            "required": ["publication_id", "status_url"],
                            "properties": {
                                "publication_id": {"type": "string"},
                                "status_url": {"type": "string"},
                            },
                        },
                        "Accepted",
                    ),
                    "404": NOT_FOUND,
                    "409": error(
                        "The task is not done, or this account has the video already "
                        '(field "force": send force: true to publish again).'
                    ),
                },
                changes_state=True,
                operationId="publishTask",
                parameters=[TASK_ID_PARAM],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": PublishRequest.model_json_schema()}},
                },
            )
        },
        "/api/accounts": {
            "get": op(
                "Which platforms are connected, from where, and as whom (tokens are never shown).",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["accounts"],
                            "properties": {"accounts": {"type": "array", "items": account}},
                        }
                    )
                },
                operationId="getAccounts",
            )
        },
    }
