"""Reelsmith as an MCP server: tools for AI agents over the Model Context Protocol.

    flask --app app mcp

serves over stdio (the official ``mcp`` SDK's ``MCPServer``, v1's FastMCP).
Point an agent at that command; it can then call:

- ``create_video``: queue a video: the fields of ``POST /api/create``, its
  input schema derived from ``CreateRequest``; files as paths on this machine
  (``music_path``, ``backgrounds_paths``, ``font_path``);
- ``get_task``: its status, progress, result, events; once done, the links
  (``/api/task/<id>/video`` ...) and the files' paths on this machine;
- ``revise_video``: a new video from a done task with edited scenes
  (``POST /api/task/<id>/revise``);
- ``publish_video``: publish a done video to YouTube or TikTok, when asked
  (``POST /api/task/<id>/publish``; mcp_publish.py);
- ``list_tasks``, ``cancel_task``, ``list_voices``.

Every tool is one call to the app's own JSON API, made in-process through
Flask's test client. So the MCP server shares the web API's validation,
queue, task store, token check and links by construction: a request the API
refuses is a tool error carrying the API's message and the field it names.
The queue's workers run in this process, as under ``make run``.

stdout carries the protocol only: the SDK moves fd 1 onto stderr while it
serves, so a stray print (from Python or from a C library) goes to stderr,
where the logging goes too.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
from pathlib import Path
from typing import Annotated, Any

from flask import Flask
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import WithJsonSchema

from reelsmith.core.storage import output_name
from reelsmith.request import CreateRequest
from reelsmith.web.common import DOWNLOADS, TASK_ID
from reelsmith.web.mcp_publish import PUBLISH_VIDEO, publish_video_tool

log = logging.getLogger("reelsmith.mcp")

INSTRUCTIONS = (
    "Reelsmith turns a topic (or your own script) into a narrated, captioned short MP4. "
    "create_video queues a render and returns its task; poll get_task until status is "
    "'done' (then 'files' has the MP4, SRT and thumbnail paths and 'links' their URLs), "
    "'failed' (see 'error') or 'canceled'."
)


class ReelsmithApi:
    """The web API, called in-process. Each method returns the response's JSON
    or raises ToolError with the API's error message (and field)."""

    def __init__(self, app: Flask):
        self.app = app
        token = app.config["SETTINGS"].server.api_token
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: dict | None = None, files=None) -> dict:
        """One API call with a JSON ``body``, or, given ``files`` (field ->
        paths), a multipart form carrying them."""
        client = self.app.test_client()  # one per call: tools run in parallel threads
        if files:
            with contextlib.ExitStack() as stack:
                form = {name: form_text(value) for name, value in (body or {}).items()}
                for name, paths in files.items():
                    form[name] = [(stack.enter_context(open(p, "rb")), p.name) for p in paths]
                response = client.open(
                    path,
                    method=method,
                    data=form,
                    headers=self.headers,
                    content_type="multipart/form-data",
                )
        else:
            response = client.open(path, method=method, json=body, headers=self.headers)
        data = response.get_json(silent=True)
        if response.status_code >= 400:
            if not isinstance(data, dict):
                raise ToolError(f"HTTP {response.status_code} from {path}")
            field = data.get("field")
            message = data.get("error") or f"HTTP {response.status_code}"
            raise ToolError(f"invalid argument '{field}': {message}" if field else message)
        return data

    def task_path(self, task_id: str, suffix: str = "") -> str:
        """``/api/task/<id><suffix>``, for a well-formed id only."""
        if not TASK_ID.match(task_id):
            raise ToolError(
                f"invalid argument 'task_id': {task_id!r} is not a task id "
                "(32 hex digits, as create_video and list_tasks return)"
            )
        return f"/api/task/{task_id}{suffix}"

    def start_workers(self) -> None:
        """Run the app's before-request hooks once: under the ``flask`` command
        that is what starts the queue's workers."""
        with self.app.test_request_context("/api/tasks", headers=self.headers):
            self.app.preprocess_request()

    def task(self, data: dict) -> dict:
        """A task's JSON plus, once it is done, the paths of its files (where
        the storage is a folder on this machine; object storage has links only)."""
        links = data.get("links") or {}
        if links:
            files = self.app.extensions["reelsmith_files"].storage
            paths = {
                kind: files.local_path(output_name(data["id"], DOWNLOADS[kind][0]))
                for kind in links
                if kind in DOWNLOADS
            }
            data["files"] = {kind: str(p) for kind, p in paths.items() if p and p.is_file()}
        return data


CREATE_VIDEO = (
    "Queue one video. Give a topic (the script writer writes the narration) or your "
    "own script (one caption per sentence; the topic is then optional); every other "
    "field is optional, as POST /api/create takes it. music is auto (a mood from the "
    "tone and topic), none, a mood or a track id (GET /api/music); files (your own "
    "music, background images or clips, a font) are paths on this machine. Returns "
    "the queued task; poll get_task with its id."
)


def path_fields() -> dict[str, tuple[str, dict]]:
    """The tool's file arguments: ``<field>_path`` (or ``_paths`` for a list)
    per upload field of ``CreateRequest``, with its JSON schema."""
    fields = {}
    for name, schema in CreateRequest.upload_schemas().items():
        text = f"{schema['description']}; as a path on this machine"
        if schema.get("type") == "array":
            path = {"type": "array", "items": {"type": "string"}, "maxItems": schema["maxItems"]}
            fields[f"{name}_paths"] = (name, {**path, "description": text})
        else:
            fields[f"{name}_path"] = (name, {"type": "string", "description": text})
    return fields


def create_video_tool(api: ReelsmithApi):
    """``create_video``: its arguments are ``CreateRequest``'s client fields
    (with the OpenAPI document's schema for each) and the file paths; the
    API checks the values, so a bad one is its message naming the field."""
    settings = api.app.config["SETTINGS"]
    files = path_fields()

    def create_video(**arguments) -> dict[str, Any]:
        paths = {}
        for argument, (field, _) in files.items():
            given = arguments.pop(argument, None)
            given = [Path(p) for p in ([given] if isinstance(given, str) else given or [])]
            for path in given:
                if not path.is_file():
                    raise ToolError(f"invalid argument '{argument}': no file at {str(path)!r}")
            if given:
                paths[field] = given
        body = {k: v for k, v in arguments.items() if v is not None}
        created = api.call("POST", "/api/create", body, files=paths)
        return api.task(api.call("GET", created["status_url"]))

    parameters = []
    for name, schema in CreateRequest.field_schemas(settings).items():
        field = CreateRequest.model_fields[name]
        kind = field.annotation if field.default is not None else field.annotation | None
        parameters.append(argument(name, kind, field.default, schema))
    for name, (_, schema) in files.items():
        kind = list[str] if schema["type"] == "array" else str
        parameters.append(argument(name, kind | None, None, schema))
    create_video.__signature__ = inspect.Signature(parameters, return_annotation=dict[str, Any])
    return create_video


def argument(name: str, kind, default, schema: dict) -> inspect.Parameter:
    """A keyword argument whose published schema is ``schema``; only its type
    is checked here (the API checks the rest, with its own messages)."""
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, WithJsonSchema(schema)],
    )


def form_text(value) -> str:
    """A value as a form field carries it: objects as JSON, booleans as true/false."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_server(app: Flask) -> MCPServer:
    """An MCPServer whose tools drive ``app`` (made by ``create_app()``)."""
    api = ReelsmithApi(app)
    server = MCPServer("reelsmith", instructions=INSTRUCTIONS)

    server.tool(name="create_video", description=CREATE_VIDEO)(create_video_tool(api))

    @server.tool()
    def get_task(task_id: str) -> dict[str, Any]:
        """One task: status (queued, running, done, failed, canceled), stage,
        progress (0-1), eta_seconds, error, result (title, duration, voice used,
        fallbacks...), events, and once done its links and file paths."""
        data = api.task(api.call("GET", api.task_path(task_id)))
        data["events"] = api.call("GET", api.task_path(task_id, "/events"))["events"]
        return data

    def revise_video(task_id: str, scenes: list) -> dict[str, Any]:
        """A new video from a done task with these scenes (its other fields as
        they were), as POST /api/task/<id>/revise makes it: only the scenes that
        changed are rendered again. Returns the new task (result.revision_of
        names the original; result.segments says which scenes were encoded
        and which reused); poll get_task with its id."""
        created = api.call("POST", api.task_path(task_id, "/revise"), {"scenes": scenes})
        return api.task(api.call("GET", created["status_url"]))

    scenes = CreateRequest.field_schemas(app.config["SETTINGS"])["scenes"]
    revise_video.__annotations__ = {
        "task_id": str,
        "scenes": Annotated[list[dict[str, Any]], WithJsonSchema(scenes)],
        "return": dict[str, Any],
    }
    server.tool()(revise_video)
    server.tool(name="publish_video", description=PUBLISH_VIDEO)(publish_video_tool(api, argument))

    def create_storyboard(**arguments) -> dict[str, Any]:
        """The scenes a video would have, before any voice or render (POST
        /api/storyboard): each scene's text, visual (source, query, prompt,
        url, upload), estimated_seconds and thumbnail_url. Edit them and pass
        them to create_video as scenes, or create with review=true and
        approve_task."""
        body = {k: v for k, v in arguments.items() if v is not None}
        return api.call("POST", "/api/storyboard", body)

    board_fields = {
        k: v
        for k, v in CreateRequest.field_schemas(app.config["SETTINGS"]).items()
        if k in ("topic", "script", "scenes", "length", "language", "tone", "voice", "visuals")
    }
    create_storyboard.__signature__ = inspect.Signature(
        [argument(k, Any, None, schema) for k, schema in board_fields.items()],
        return_annotation=dict[str, Any],
    )
    server.tool()(create_storyboard)

    def approve_task(task_id: str, scenes: list | None = None) -> dict[str, Any]:
        """Render a task waiting in review (created with review=true): its
        result.storyboard's scenes, or these edited scenes. Poll get_task."""
        body = {"scenes": scenes} if scenes else {}
        return api.task(api.call("POST", api.task_path(task_id, "/approve"), body))

    approve_task.__annotations__ = {
        "task_id": str,
        "scenes": Annotated[list[dict[str, Any]] | None, WithJsonSchema(scenes)],
        "return": dict[str, Any],
    }
    server.tool()(approve_task)

    @server.tool()
    def list_tasks() -> dict[str, Any]:
        """The most recent tasks, newest first."""
        return {"tasks": [api.task(t) for t in api.call("GET", "/api/tasks")["tasks"]]}

    @server.tool()
    def cancel_task(task_id: str) -> dict[str, Any]:
        """Cancel a task: a queued one at once, a running one at its next step
        (poll get_task until its status is 'canceled')."""
        return api.task(api.call("POST", api.task_path(task_id, "/cancel")))

    @server.tool()
    def list_voices() -> dict[str, Any]:
        """The voice engines on this machine, their languages, and whether they
        need the internet."""
        return api.call("GET", "/api/voices")

    return server


def run(app: Flask) -> None:
    """Serve ``app``'s tools over stdio until the client closes the connection,
    then stop the queue like ``make run`` does (running task given
    SHUTDOWN_TIMEOUT, then re-queued)."""
    server = build_server(app)
    ReelsmithApi(app).start_workers()
    settings = app.config["SETTINGS"]
    log.info(
        "Reelsmith MCP server on stdio (data in %s)", Path(settings.storage.data_dir).resolve()
    )
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["reelsmith"].shutdown(settings.tasks.shutdown_timeout)
