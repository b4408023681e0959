"""The OpenAPI 3.1 document served at ``GET /api/openapi.json``.

The create fields are ``CreateRequest``'s own (``field_schemas`` and
``upload_schemas``), so they cannot drift from what the API checks; the rest
is written here from the same constants the views use, and kept true by
tests/test_openapi.py, which checks real responses against it and runs
schemathesis on the live app.

To add a route: one entry in ``paths`` (the helpers in ``openapi_schemas``
keep it to a few lines); the coverage test fails until every Flask route
under /api/ is documented.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from reelsmith.core.settings import Settings
from reelsmith.request import CreateRequest
from reelsmith.web.common import settings as current_settings
from reelsmith.web.music import music_paths
from reelsmith.web.openapi_publish import publish_paths, publish_schemas
from reelsmith.web.openapi_schemas import (
    BINARY,
    NOT_FOUND,
    QUEUE_FULL,
    QUEUED_SCHEMA,
    REF,
    TASK_ID_PARAM,
    TASK_OPERATIONS,
    TEXT,
    create_body,
    download_op,
    error,
    file_body,
    form_fields,
    json_body,
    op,
    schemas,
    string,
)
from reelsmith.web.openapi_storyboard import storyboard_paths
from reelsmith.web.studio import MAX_PREVIEW_SENTENCE
from reelsmith.web.tasks_api import MAX_BODY

VERSION = "1.0.0"

bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
def openapi_document():
    return jsonify(document(current_settings()))


def paths(settings: Settings) -> dict:
    fields = CreateRequest.field_schemas(settings)
    uploads = CreateRequest.upload_schemas()
    preview = {
        "topic": fields["topic"],
        "aspect": fields["aspect"],
        "caption_style": fields["caption_style"],
        "sentence": string(MAX_PREVIEW_SENTENCE),
    }
    task = {"$ref": REF + "Task"}
    return {
        "/": {
            "get": op(
                "The page.",
                {
                    "200": {
                        "description": "HTML",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
                security=[],
            )
        },
        "/api/create": {
            "post": op(
                "Queue a video. Answers at once with the task's id.",
                {
                    "202": {
                        **json_body(QUEUED_SCHEMA, "Queued."),
                        "links": {
                            name: {
                                "operationId": name,
                                "parameters": {"task_id": "$response.body#/task_id"},
                            }
                            for name in TASK_OPERATIONS
                        },
                    },
                    "413": error(
                        f"A body over {MAX_BODY // 1024} KB without files, or uploads over "
                        f"MAX_UPLOAD_MB ({settings.server.max_upload_mb:g})."
                    ),
                    "507": json_body(
                        {
                            "type": "object",
                            "required": ["error", "data_dir", "free_mb"],
                            "properties": {
                                "error": {"type": "string"},
                                "data_dir": {"type": "string"},
                                "free_mb": {"type": "number"},
                            },
                        },
                        "Free space in DATA_DIR is below MIN_FREE_MB "
                        f"({settings.storage.min_free_mb:g}); the body names DATA_DIR and "
                        "the free space.",
                    ),
                    "503": QUEUE_FULL,
                },
                changes_state=True,
                operationId="createTask",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": create_body(fields)},
                        "application/x-www-form-urlencoded": {
                            "schema": create_body(form_fields(fields))
                        },
                        "multipart/form-data": {
                            "schema": create_body({**form_fields(fields), **uploads})
                        },
                    },
                },
            )
        },
        "/api/tasks": {
            "get": op(
                "Every task, newest first.",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["tasks"],
                            "properties": {"tasks": {"type": "array", "items": task}},
                        }
                    )
                },
            )
        },
        "/api/task/{task_id}": {
            "get": op(
                "A task's status, progress and result.",
                {"200": json_body(task), "404": NOT_FOUND},
                operationId="getTask",
                parameters=[TASK_ID_PARAM],
            )
        },
        "/api/task/{task_id}/cancel": {
            "post": op(
                "Cancel a task: a queued one at once, a running one at its next frame.",
                {"200": json_body(task), "404": NOT_FOUND},
                changes_state=True,
                operationId="cancelTask",
                parameters=[TASK_ID_PARAM],
            )
        },
        "/api/task/{task_id}/events": {
            "get": op(
                "Every status change of a task, with its time.",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {"type": "array", "items": {"$ref": REF + "Event"}}
                            },
                        }
                    ),
                    "404": NOT_FOUND,
                },
                operationId="getTaskEvents",
                parameters=[TASK_ID_PARAM],
            )
        },
        "/api/task/{task_id}/video": {"get": download_op("video", {"video/mp4": BINARY})},
        "/api/task/{task_id}/thumbnail": {"get": download_op("thumbnail", {"image/jpeg": BINARY})},
        "/api/task/{task_id}/subtitles": {
            "get": download_op(
                "subtitles",
                {"application/x-subrip": TEXT, "text/vtt": TEXT, "text/x-ssa": TEXT},
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["srt", "vtt", "ass"], "default": "srt"},
                },
            )
        },
        "/api/voices": {
            "get": op(
                "Every voice on this machine, the engines, and language names.",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["voices", "engines", "languages"],
                            "properties": {
                                "voices": {"type": "array", "items": {"$ref": REF + "Voice"}},
                                "engines": {"type": "array", "items": {"$ref": REF + "Engine"}},
                                "languages": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        }
                    )
                },
            )
        },
        "/api/voices/{voice_id}/preview": {
            "get": op(
                "A short clip of a voice (WAV, cached).",
                {
                    "200": file_body("audio/wav", "The clip."),
                    "404": error("No such voice."),
                    "502": error("The voice's engine could not speak (e.g. offline)."),
                },
                parameters=[
                    {
                        "name": "voice_id",
                        "in": "path",
                        "required": True,
                        "schema": string(fields["voice"]["maxLength"]),
                    },
                    {
                        "name": "language",
                        "in": "query",
                        "required": False,
                        "schema": {
                            key: fields["language"][key] for key in ("type", "maxLength", "pattern")
                        },
                    },
                ],
            )
        },
        "/api/status": {
            "get": op(
                "Which script writer is in use, and the queue.",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["writer", "queued", "running"],
                            "properties": {
                                "writer": {
                                    "type": "object",
                                    "required": ["writer"],
                                    "properties": {"writer": {"type": "string"}},
                                },
                                "words_per_second": {"type": "number"},
                                "queued": {"type": "integer"},
                                "running": {"type": "integer"},
                            },
                        }
                    )
                },
            )
        },
        "/api/preview": {
            "post": op(
                "One still frame in a caption style, as PNG (with your own font: multipart).",
                {"200": file_body("image/png", "The frame.")},
                changes_state=True,
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": preview}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    **form_fields(preview),
                                    "font": {
                                        **uploads["font"],
                                        "description": "A caption font of your own for this frame "
                                        "(checked as createTask checks it, not kept): "
                                        + ", ".join(
                                            sorted(CreateRequest.upload_fields()["font"].suffixes)
                                        ),
                                    },
                                },
                            }
                        },
                    },
                },
            )
        },
        "/api/openapi.json": {"get": op("This document.", {"200": json_body({"type": "object"})})},
        **storyboard_paths(fields, uploads),
        **music_paths(),
        **publish_paths(),
    }


def document(settings: Settings) -> dict:
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Reelsmith",
            "version": VERSION,
            "description": "Topic in, narrated captioned short video out. Every error is "
            'JSON: {"error": "...", "field": "..."}.',
        },
        "paths": paths(settings),
        "components": {"schemas": {**schemas(), **publish_schemas()}},
    }
    if settings.server.api_token:
        doc["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"token": []}]
    return doc
