"""The OpenAPI 3.1 document served at ``GET /api/openapi.json``.

Written once, here, from the same constants the API checks (``routes.py``,
``config.Settings``), and kept true by tests/test_openapi.py, which checks real
responses against it and runs schemathesis on the live app.

To add a create field: one line in ``create_fields``.
To add a route: one entry in ``paths`` (the helpers ``op``, ``json_body``,
``TASK_ID_PARAM`` and ``error`` keep it to a few lines); the coverage test
fails until every Flask route under /api/ is documented.
"""

from __future__ import annotations

from reelsmith.core.settings import ASPECTS, Settings
from reelsmith.tasks.model import TaskStatus
from reelsmith.visuals.backgrounds import MAX_TRANSITION_SECONDS, TRANSITIONS
from reelsmith.visuals.sources import SOURCES
from reelsmith.web.routes import (
    DOWNLOADS,
    LANGUAGE,
    LENGTH_RANGE,
    MAX_BACKGROUNDS,
    MAX_BODY,
    MAX_LANGUAGE,
    MAX_PREVIEW_SENTENCE,
    MAX_URL,
    MAX_VOICE,
    SPEED_RANGE,
    TASK_ID,
    UPLOAD_KINDS,
    VOICES,
)

VERSION = "1.0.0"
REF = "#/components/schemas/"


def create_fields(settings: Settings) -> dict[str, dict]:
    """``POST /api/create``'s fields (JSON, form or multipart), one line each."""
    from reelsmith.captions.overlay import PRESETS

    low, high = LENGTH_RANGE
    return {
        "topic": {
            **string(settings.max_topic_chars, "What the video is about (or give a script)."),
            "pattern": r"\S",
        },
        "script": {
            **string(
                settings.max_script_chars,
                "Your own text, one caption per sentence; skips the script writer.",
            ),
            "pattern": r"\S",
        },
        "voice": {
            **string(
                MAX_VOICE,
                "auto, an engine (" + ", ".join(VOICES[1:]) + ") or a "
                "voice id from /api/voices, e.g. piper:en_US-joe-medium.",
            ),
            "default": "auto",
        },
        "speed": {
            "type": "number",
            "minimum": SPEED_RANGE[0],
            "maximum": SPEED_RANGE[1],
            "default": 1.0,
            "description": "Narration speed.",
        },
        "visuals": {
            "type": "string",
            "enum": ["auto", *SOURCES],
            "default": "auto",
            "description": "Where the pictures come from (a source needs its key).",
        },
        "transition": {"type": "string", "enum": list(TRANSITIONS), "default": "cut"},
        "transition_seconds": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TRANSITION_SECONDS,
            "default": 0.5,
        },
        "language": {**string(MAX_LANGUAGE), "pattern": LANGUAGE.pattern, "default": "en"},
        "length": {
            "type": "integer",
            "minimum": low,
            "maximum": high,
            "default": 30,
            "description": "Target length in seconds.",
        },
        "tone": {**string(40), "default": "informative"},
        "aspect": {"type": "string", "enum": list(ASPECTS), "default": "9:16"},
        "fresh": {"type": "boolean", "default": False, "description": "Bypass the script cache."},
        "webhook_url": {
            **string(MAX_URL),
            "format": "uri",
            "pattern": "^https?://",
            "description": "Gets the task's JSON (POST) when it ends. Public "
            "addresses only unless WEBHOOK_ALLOW_PRIVATE is set.",
        },
        "caption_style": {
            "anyOf": [{"type": "string", "enum": list(PRESETS)}, {"type": "object"}],
            "description": "A preset name or a style object (in a form: the object as JSON text).",
        },
    }


def string(max_length: int, description: str | None = None) -> dict:
    schema = {"type": "string", "maxLength": max_length}
    return {**schema, "description": description} if description else schema


def error(description: str) -> dict:
    """A response whose body is the error shape."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF + "Error"}}},
    }


def json_body(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


BINARY = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
TEXT = {"schema": {"type": "string"}}


def file_body(mimetype: str, description: str) -> dict:
    return {"description": description, "content": {mimetype: BINARY}}


TASK_ID_PARAM = {
    "name": "task_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": TASK_ID.pattern},
}
DOWNLOAD_PARAM = {
    "name": "download",
    "in": "query",
    "required": False,
    "description": "1: send as an attachment.",
    "schema": {"type": "string", "enum": ["0", "1"]},
}
NOT_FOUND = error("No task with this id.")
# The operations a created task's id leads to (links from createTask's 202).
TASK_OPERATIONS = (
    "getTask",
    "getTaskEvents",
    "cancelTask",
    "getVideo",
    "getSubtitles",
    "getThumbnail",
)


def op(summary: str, responses: dict, *, changes_state: bool = False, **extra) -> dict:
    """One operation, with the errors every request can get added. ``extra``:
    more Operation Object fields (operationId, parameters, requestBody...)."""
    common = {
        "400": error("Bad input (``field`` names it), or a Host that is not allowed."),
        "401": error("API_TOKEN is set and the request did not carry it."),
    }
    if changes_state:
        common["403"] = error("A browser request from another origin.")
    return {"summary": summary, **extra, "responses": {**common, **responses}}


# With STORAGE_PRESIGN set and outputs in S3, a download is a redirect to the object.
PRESIGNED_REDIRECT = {
    "description": "STORAGE_PRESIGN is set and the file is in S3 storage: fetch it from "
    "Location, a presigned URL valid for 5 minutes (the token is not needed "
    "there).",
    "headers": {
        "Location": {
            "required": True,
            "description": "The presigned URL.",
            "schema": {"type": "string", "format": "uri"},
        }
    },
}


def download_op(kind: str, content: dict, *parameters: dict) -> dict:
    return op(
        f"The finished task's {kind}.",
        {
            "200": {"description": f"The {kind}.", "content": content},
            "302": PRESIGNED_REDIRECT,
            "404": NOT_FOUND,
            "409": error("The task is not done."),
            "410": error("The file was removed after the retention period."),
        },
        operationId=f"get{kind.title()}",
        parameters=[TASK_ID_PARAM, DOWNLOAD_PARAM, *parameters],
    )


def paths(settings: Settings) -> dict:
    fields = create_fields(settings)
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
                        **json_body(
                            {
                                "type": "object",
                                "required": ["task_id", "status_url"],
                                "properties": {
                                    "task_id": TASK_ID_PARAM["schema"],
                                    "status_url": {"type": "string"},
                                },
                            },
                            "Queued.",
                        ),
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
                        f"MAX_UPLOAD_MB ({settings.max_upload_mb:g})."
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
                        f"({settings.min_free_mb:g}); the body names DATA_DIR and "
                        "the free space.",
                    ),
                    "503": {
                        **error("The queue is full; try again after Retry-After seconds."),
                        "headers": {"Retry-After": {"schema": {"type": "string"}}},
                    },
                },
                changes_state=True,
                operationId="createTask",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": fields, **TOPIC_OR_SCRIPT}
                        },
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": form_fields(fields),
                                **TOPIC_OR_SCRIPT,
                            }
                        },
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {**form_fields(fields), **upload_fields()},
                                **TOPIC_OR_SCRIPT,
                            }
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
                        "schema": string(MAX_VOICE),
                    },
                    {
                        "name": "language",
                        "in": "query",
                        "required": False,
                        "schema": {**string(MAX_LANGUAGE), "pattern": LANGUAGE.pattern},
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
                                        **upload_fields()["font"],
                                        "description": "A caption font of your own for this frame "
                                        "(checked as createTask checks it, not kept): "
                                        + ", ".join(sorted(UPLOAD_KINDS["font"])),
                                    },
                                },
                            }
                        },
                    },
                },
            )
        },
        "/api/openapi.json": {"get": op("This document.", {"200": json_body({"type": "object"})})},
    }


TOPIC_OR_SCRIPT = {"anyOf": [{"required": ["topic"]}, {"required": ["script"]}]}


def form_fields(fields: dict) -> dict:
    """In a form every value is text: a field that may be an object takes its
    string choices here (the object itself may be sent as JSON text)."""
    return {
        name: next((c for c in schema["anyOf"] if c.get("type") == "string"), schema)
        if "anyOf" in schema
        else schema
        for name, schema in fields.items()
    }


def upload_fields() -> dict:
    return {
        "music": {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "One audio file: " + ", ".join(sorted(UPLOAD_KINDS["music"])),
        },
        "backgrounds": {
            "type": "array",
            "maxItems": MAX_BACKGROUNDS,
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            "description": "Images or clips, one per sentence in turn: "
            + ", ".join(sorted(UPLOAD_KINDS["backgrounds"])),
        },
        "font": {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "A caption font of your own (it replaces the style's font): "
            + ", ".join(sorted(UPLOAD_KINDS["font"])),
        },
    }


def schemas() -> dict:
    number_or_null = {"type": ["number", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "What went wrong, for people."},
                "field": {"type": "string", "description": "The request field at fault."},
            },
        },
        "Task": {
            "type": "object",
            "required": [
                "id",
                "request",
                "status",
                "stage",
                "progress",
                "attempts",
                "created_at",
                "eta_seconds",
                "error",
                "result",
                "status_url",
            ],
            "properties": {
                "id": TASK_ID_PARAM["schema"],
                "request": {
                    "type": "object",
                    "required": ["topic"],
                    "properties": {"topic": {"type": "string"}},
                },
                "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
                "stage": {"type": "string"},
                "progress": {"type": "number", "minimum": 0, "maximum": 1},
                "attempts": {"type": "integer", "minimum": 0},
                "created_at": {"type": "number"},
                "started_at": number_or_null,
                "finished_at": number_or_null,
                "expired_at": number_or_null,
                "eta_seconds": {
                    **number_or_null,
                    "description": "Seconds left: from the pace so "
                    "far when running; when queued, from its place in line and the "
                    "recent render pace (null with no history).",
                },
                "queue_position": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "A queued task's place in line (1 = next).",
                },
                "result": {"type": ["object", "null"]},
                "error": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["stage", "message"],
                            "properties": {
                                "stage": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    ]
                },
                "status_url": {"type": "string"},
                "links": {
                    "type": "object",
                    "required": list(DOWNLOADS),
                    "properties": {name: {"type": "string"} for name in DOWNLOADS},
                },
            },
        },
        "Event": {
            "type": "object",
            "required": ["at", "status", "message"],
            "properties": {
                "at": {"type": "number"},
                "status": {"type": ["string", "null"]},
                "message": {"type": ["string", "null"]},
            },
        },
        "Voice": {
            "type": "object",
            "required": ["id", "engine", "language", "name", "offline", "word_timings"],
            "properties": {
                "id": {"type": "string"},
                "engine": {"type": "string"},
                "language": {"type": "string"},
                "name": {"type": "string"},
                "gender": {"type": ["string", "null"]},
                "offline": {"type": "boolean"},
                "word_timings": {"type": "boolean"},
            },
        },
        "Engine": {
            "type": "object",
            "required": ["engine", "offline", "languages"],
            "properties": {
                "engine": {"type": "string"},
                "description": {"type": "string"},
                "offline": {"type": "boolean"},
                "word_timings": {"type": "boolean"},
                "languages": {"type": "array", "items": {"type": "string"}},
                "available": {"type": "boolean"},
                "unavailable_reason": {"type": ["string", "null"]},
            },
        },
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
        "components": {"schemas": schemas()},
    }
    if settings.api_token:
        doc["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"token": []}]
    return doc
