"""The MCP server, driven over stdio by the official SDK's own client.

The server runs in a child process (``python -c`` with the same network guard
as the tests, or ``flask --app app mcp``), offline, with a tiny render size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from app import create_app
from reelsmith.core.settings import Settings
from reelsmith.web import mcp_server

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# The child installs the guard from conftest.py before anything else: it too
# may only reach 127.0.0.1.
LAUNCH = """
import socket
import tests.conftest as guard
socket.socket.connect = guard._guarded_connect
socket.socket.connect_ex = guard._guarded_connect_ex
socket.getaddrinfo = guard._guarded_getaddrinfo
from app import create_app
from reelsmith.web import mcp_server
mcp_server.run(create_app())
"""
SCRIPT = "Otters hold hands while they sleep. They float together on calm water."
LONG_SCRIPT = " ".join(f"This is sentence number {n} of a long script." for n in range(40))


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Offline settings for the child: its own data dir, a 180x320 render."""
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "CACHE_DIR": str(tmp_path / "cache"),
        "RENDER_WIDTH": "180",
        "RENDER_HEIGHT": "320",
        "RENDER_FPS": "12",
        "RETENTION_DAYS": "0",
        "SHUTDOWN_TIMEOUT": "5",
        "DISCOVER_LOCAL_LLM": "0",
        **extra,
    }


def web_api(tmp_path: Path, path: str) -> dict:
    """What the web API answers, in this process, with the child's settings."""
    app = create_app(
        {"SETTINGS": Settings.from_env(server_env(tmp_path / "web")), "START_WORKERS": False}
    )
    return app.test_client().get(path).get_json()


class Calls:
    """Tool calls that return (structured result, None) or (None, error text),
    and the transport faults the client saw, such as a stdout line that is not
    JSON-RPC (something other than the protocol was printed)."""

    def __init__(self):
        self.faults: list[Exception] = []

    async def record(self, message) -> None:
        if isinstance(message, Exception):
            self.faults.append(message)

    async def call(self, session: ClientSession, tool: str, **arguments):
        result = await session.call_tool(tool, arguments)
        text = "\n".join(c.text for c in result.content if c.type == "text")
        if result.is_error:
            return None, text
        data = result.structured_content
        assert data is not None, f"{tool} returned no structured content: {text}"
        assert json.loads(text) == data  # the text block carries the same JSON
        return data, None


def run_client(params: StdioServerParameters, body, timeout: float = 120):
    """Start the server, initialise a ClientSession, run ``body(helper, session)``."""
    helper = Calls()

    async def main():
        with anyio.fail_after(timeout):
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write, message_handler=helper.record) as session:
                    await session.initialize()
                    result = await body(helper, session)
        return result

    result = anyio.run(main)
    assert helper.faults == [], (
        f"the server wrote something other than the protocol: {helper.faults}"
    )
    return result


async def wait_finished(helper: Calls, session: ClientSession, task_id: str) -> dict:
    while True:
        task, error = await helper.call(session, "get_task", task_id=task_id)
        assert error is None, error
        if task["status"] in ("done", "failed", "canceled"):
            return task
        await anyio.sleep(0.3)


@pytest.fixture
def python_server(tmp_path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-c", LAUNCH], cwd=str(ROOT), env=server_env(tmp_path)
    )


def test_create_a_video_poll_until_done_and_cancel(python_server, tmp_path):
    async def body(helper: Calls, session: ClientSession):
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {
            "create_video",
            "create_storyboard",
            "approve_task",
            "revise_video",
            "get_task",
            "list_tasks",
            "cancel_task",
            "list_voices",
            "publish_video",
        }

        created, error = await helper.call(
            session, "create_video", script=SCRIPT, voice="espeak", length=10, caption_style="boxed"
        )
        assert error is None, error
        assert created["request"]["caption_style"] == "boxed", created["request"]
        assert created["status"] in ("queued", "running")
        assert created["status_url"] == f"/api/task/{created['id']}"
        # A second task queued behind the first (one worker) is canceled.
        doomed, error = await helper.call(
            session, "create_video", script=LONG_SCRIPT, voice="espeak", length=60
        )
        assert error is None, error
        canceled, error = await helper.call(session, "cancel_task", task_id=doomed["id"])
        assert error is None, error

        done = await wait_finished(helper, session, created["id"])
        doomed = await wait_finished(helper, session, doomed["id"])
        listed, _ = await helper.call(session, "list_tasks")
        return done, doomed, listed

    done, doomed, listed = run_client(python_server, body)
    assert done["status"] == "done", done.get("error")
    assert done["result"]["voice_engine"] == "espeak"
    assert done["result"]["sentences"] == [
        "Otters hold hands while they sleep.",
        "They float together on calm water.",
    ]
    assert done["links"] == {
        kind: f"/api/task/{done['id']}/{kind}" for kind in ("video", "subtitles", "thumbnail")
    }
    video = Path(done["files"]["video"])
    assert video == (tmp_path / "data" / "videos" / f"{done['id']}.mp4").resolve()
    assert video.stat().st_size > 1000 and video.read_bytes()[4:8] == b"ftyp"
    assert Path(done["files"]["subtitles"]).read_text().count("-->") == 2
    assert [e["status"] for e in done["events"]][-1] == "done", done["events"]
    assert doomed["status"] == "canceled" and "files" not in doomed
    assert {t["id"] for t in listed["tasks"]} == {done["id"], doomed["id"]}


def test_an_agent_sees_the_storyboard_edits_a_scene_and_approves(python_server):
    async def body(helper: Calls, session: ClientSession):
        board, error = await helper.call(session, "create_storyboard", script=SCRIPT)
        assert error is None, error
        scenes = [{"text": s["text"], "visual": s["visual"]} for s in board["scenes"]]
        assert [s["text"] for s in scenes] == [
            "Otters hold hands while they sleep.",
            "They float together on calm water.",
        ]
        assert all(s["thumbnail_url"].endswith(".jpg") for s in board["scenes"])
        held, error = await helper.call(
            session, "create_video", scenes=scenes, voice="espeak", review=True
        )
        assert error is None, error
        while held["status"] != "review":
            assert held["status"] in ("queued", "running"), held
            await anyio.sleep(0.2)
            held, _ = await helper.call(session, "get_task", task_id=held["id"])
        scenes[1]["text"] = "They drift together on calm water."
        approved, error = await helper.call(
            session, "approve_task", task_id=held["id"], scenes=scenes
        )
        assert error is None, error
        return await wait_finished(helper, session, held["id"])

    done = run_client(python_server, body)
    assert done["status"] == "done", done.get("error")
    assert done["result"]["sentences"][1] == "They drift together on calm water."


def test_bad_arguments_are_tool_errors_naming_the_field(python_server):
    async def body(helper: Calls, session: ClientSession):
        return [
            await helper.call(session, "create_video", **args)
            for args in (
                {"topic": "otters", "length": 601},
                {"topic": "otters", "voice": "robot"},
                {"topic": "otters", "language": "not a language"},
                {"topic": "otters", "webhook_url": "ftp://example.com/hook"},
                {"topic": ""},
                {"topic": "otters", "caption_style": "no-such-preset"},
                {"topic": "otters", "length": "long"},  # refused by the tool's input schema
                {"topic": "otters", "speed": 4},
                {"topic": "otters", "transition": "wipe"},
                {"topic": "otters", "transition_seconds": 9},
            )
        ] + [
            await helper.call(session, "get_task", task_id="0" * 32),
            await helper.call(session, "cancel_task", task_id="../etc/passwd"),
            await helper.call(session, "list_tasks"),
        ]

    *errors, listed = run_client(python_server, body)
    fields = [
        "length",
        "voice",
        "language",
        "webhook_url",
        "topic",
        "caption_style",
        "length",
        "speed",
        "transition",
        "transition_seconds",
    ]
    assert len(errors) == len(fields) + 2
    for (data, error), field in zip(errors, fields):
        assert data is None and field in error, (field, error)
    assert "invalid argument 'length': length must be between 10 and 600" in errors[0][1]
    assert "no task with id" in errors[-2][1]
    assert "invalid argument 'task_id'" in errors[-1][1]  # refused before any look-up
    assert listed == ({"tasks": []}, None)  # nothing invalid was queued


def test_flask_mcp_command_lists_voices(tmp_path):
    """The documented entry point, ``flask --app app mcp``."""
    params = StdioServerParameters(
        command=str(VENV_BIN / "flask"),
        args=["--app", "app", "mcp"],
        cwd=str(ROOT),
        env=server_env(tmp_path),
    )

    async def body(helper: Calls, session: ClientSession):
        voices, error = await helper.call(session, "list_voices")
        assert error is None, error
        tasks, error = await helper.call(session, "list_tasks")
        assert error is None, error
        return voices, tasks

    voices, tasks = run_client(params, body, timeout=60)
    assert voices == web_api(tmp_path, "/api/voices")  # the web API's own answer
    assert "espeak" in {v["engine"] for v in voices["voices"]}
    assert tasks == {"tasks": []}


def test_api_token_is_sent_for_the_agent(tmp_path):
    """With API_TOKEN set the web API wants it; the MCP server (a local process
    the user started) passes it, so its tools keep working."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", LAUNCH],
        cwd=str(ROOT),
        env=server_env(tmp_path, API_TOKEN="s3cret", WORKERS="0"),
    )

    async def body(helper: Calls, session: ClientSession):
        return await helper.call(session, "create_video", topic="otters")

    created, error = run_client(params, body, timeout=60)
    assert error is None, error
    assert created["status"] == "queued" and created["request"]["topic"] == "otters"


def in_process_server(tmp_path):
    """The MCP server's tools on an app whose queue does not run (nothing renders)."""
    app = create_app({"SETTINGS": Settings.from_env(server_env(tmp_path)), "START_WORKERS": False})
    return app, mcp_server.build_server(app)


def test_the_tool_takes_every_field_of_the_openapi_create_body(tmp_path):
    app, server = in_process_server(tmp_path)
    doc = app.test_client().get("/api/openapi.json").get_json()
    body = doc["paths"]["/api/create"]["post"]["requestBody"]["content"]
    tools = {t.name: t for t in anyio.run(server.list_tools)}
    arguments = tools["create_video"].input_schema["properties"]
    for name, schema in body["application/json"]["schema"]["properties"].items():
        assert name in arguments, name
        assert schema.items() <= arguments[name].items(), (name, arguments[name])
    multipart = body["multipart/form-data"]["schema"]["properties"]
    files = set(multipart) - set(body["application/json"]["schema"]["properties"])
    assert files == {"backgrounds", "font", "narration"}
    # music is a value (auto, none, a mood, a track) in JSON, and a value or a file in multipart
    assert {"type": "string", "contentMediaType": "application/octet-stream"} in multipart["music"][
        "anyOf"
    ]
    assert "calm" in arguments["music"]["enum"] and arguments["music"]["default"] == "auto"
    assert {"music_path", "backgrounds_paths", "font_path", "narration_path"} <= set(arguments)
    assert arguments["backgrounds_paths"]["maxItems"] == 10
    app.extensions["reelsmith"].shutdown(5)


def test_files_reach_the_tool_as_paths_on_this_machine(tmp_path):
    from mcp.server.mcpserver.exceptions import ToolError

    from reelsmith.captions import fonts
    from tests.helpers.media import make_tone

    app, server = in_process_server(tmp_path)
    font = fonts.FAMILIES["anton"].face().path
    music = make_tone(tmp_path / "bed.mp3", seconds=1.0, frequency=440)
    result = anyio.run(
        server.call_tool,
        "create_video",
        {"topic": "otters", "font_path": str(font), "music_path": str(music), "fresh": True},
    )
    task = result.structured_content
    uploads = app.config["SETTINGS"].storage.data_dir / "uploads"
    assert task["request"]["fresh"] is True
    assert (uploads / task["request"]["font"]).read_bytes() == font.read_bytes()
    assert (uploads / task["request"]["music"]).read_bytes() == music.read_bytes()
    by_mood = anyio.run(server.call_tool, "create_video", {"topic": "otters", "music": "tender"})
    assert by_mood.structured_content["request"]["music"] == "tender"
    with pytest.raises(ToolError, match="music must be auto, none, a mood"):
        anyio.run(server.call_tool, "create_video", {"topic": "x", "music": "loud"})
    with pytest.raises(ToolError, match="font_path"):
        anyio.run(server.call_tool, "create_video", {"topic": "x", "font_path": "/no/such.ttf"})
    with pytest.raises(ToolError, match="invalid argument 'music'"):
        anyio.run(server.call_tool, "create_video", {"topic": "x", "music_path": str(font)})
    app.extensions["reelsmith"].shutdown(5)
