"""A real server process killed with SIGKILL mid-render loses nothing."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import free_port
from tests.helpers.media import probe

ROOT = Path(__file__).resolve().parent.parent


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def start_server(tmp_path, port, log):
    env = dict(
        os.environ,
        DATA_DIR=str(tmp_path / "instance"),
        CACHE_DIR=str(tmp_path / "instance" / "cache"),
        OPENAI_API_KEY="",
        RENDER_WIDTH="360",
        RENDER_HEIGHT="640",
    )
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks", timeout=1)
            return proc
        except OSError:
            assert proc.poll() is None, "the server exited during start-up"
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_sigkill_mid_render_then_restart_completes_the_task(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    videos = tmp_path / "instance" / "videos"
    with open(tmp_path / "server.log", "ab") as log:
        first = start_server(tmp_path, port, log)
        try:
            task_id = call(f"{base}/api/create", {"topic": "why octopuses have three hearts"})[
                "task_id"
            ]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                task = call(f"{base}/api/task/{task_id}")
                if task["stage"] == "render" and task["progress"] > 0.4:
                    break
                assert task["status"] in ("queued", "running"), task
                time.sleep(0.02)
            else:
                raise AssertionError("never saw the render in progress")
            assert "links" not in task
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()

        # Killed mid-render: the final name does not exist, only temp files may.
        assert not (videos / f"{task_id}.mp4").exists()
        assert any(p.name.startswith(".") for p in videos.iterdir())

        second = start_server(tmp_path, port, log)
        try:
            listed = call(f"{base}/api/tasks")["tasks"]
            assert [t["id"] for t in listed] == [task_id]
            assert listed[0]["status"] in ("queued", "running") and "links" not in listed[0]
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                task = call(f"{base}/api/task/{task_id}")
                if task["status"] not in ("queued", "running"):
                    break
                time.sleep(0.2)
            events = call(f"{base}/api/task/{task_id}/events")["events"]
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0  # SIGTERM is a graceful exit

    assert task["status"] == "done", task
    assert task["attempts"] == 2
    assert [e["status"] for e in events] == ["queued", "running", "queued", "running", "done"]
    assert events[2]["message"] == "re-queued after interruption"
    info = probe(videos / f"{task_id}.mp4")
    assert (info.width, info.height) == (360, 640) and info.audio
    assert sorted(p.name for p in videos.iterdir()) == sorted(
        f"{task_id}{s}" for s in (".jpg", ".mp4", ".srt")
    )
