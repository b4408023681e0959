"""The OpenAPI document's building blocks: helpers for operations and
responses, and the component schemas (Error, Task, Event, Voice, Engine)."""

from __future__ import annotations

from reelsmith.tasks.model import TaskStatus
from reelsmith.web.common import DOWNLOADS, TASK_ID

REF = "#/components/schemas/"


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
# A new task (create, revise): 202 with its id and where to follow it.
QUEUED_SCHEMA = {
    "type": "object",
    "required": ["task_id", "status_url"],
    "properties": {"task_id": TASK_ID_PARAM["schema"], "status_url": {"type": "string"}},
}
QUEUE_FULL = {
    **error("The queue is full; try again after Retry-After seconds."),
    "headers": {"Retry-After": {"schema": {"type": "string"}}},
}
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


def create_body(properties: dict) -> dict:
    """A create request's body: these fields and no others, a topic, a script or scenes."""
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "anyOf": [{"required": ["topic"]}, {"required": ["script"]}, {"required": ["scenes"]}],
    }


def form_fields(fields: dict) -> dict:
    """In a form every value is text: a field that may be an object takes its
    string choices here (the object itself may be sent as JSON text), and a
    list is its JSON text."""
    return {
        name: next((c for c in schema["anyOf"] if c.get("type") == "string"), schema)
        if "anyOf" in schema
        else {"type": "string", "description": schema.get("description", "")}
        if schema.get("type") == "array"
        else schema
        for name, schema in fields.items()
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
                "publications": {"type": "array", "items": {"$ref": REF + "Publication"}},
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
