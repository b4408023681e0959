"""A queued task's place in line, and a full disk said plainly (507 on create,
a clear failure during a render, nothing half-written left)."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import video_creator
from app import create_app
from reelsmith.core import disk
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.render import segments
from tests.helpers import poll, tiny_settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
SCRIPT = "Tea is a leaf. People brew it hot. Some drink it cold."


# -- queue position ----------------------------------------------------------
@pytest.fixture
def gated(tmp_path):
    """An app with one worker whose runner holds each task until its topic's
    event is set."""
    releases = {topic: threading.Event() for topic in "abcd"}

    def runner(task, report):
        report("render", 0.5)
        if not releases[task.request.topic].wait(20):
            raise TimeoutError("never released")
        return {"title": task.request.topic}

    app = create_app(
        {"SETTINGS": tiny_settings(tmp_path, min_free_mb=0), "RUNNER": runner, "TESTING": True}
    )
    yield app.test_client(), releases
    for event in releases.values():
        event.set()
    app.extensions["reelsmith"].shutdown(5)


def test_queue_position_counts_down_as_tasks_finish(gated):
    client, releases = gated
    ids = {t: client.post("/api/create", json={"topic": t}).get_json()["task_id"] for t in "abcd"}

    def tasks():
        return {t["request"]["topic"]: t for t in client.get("/api/tasks").get_json()["tasks"]}

    poll(client, ids["a"], until=("running",))
    now = tasks()
    assert [now[t]["queue_position"] for t in "abcd"] == [None, 1, 2, 3]
    assert now["b"]["eta_seconds"] is None  # no finished task yet: no pace to go by
    assert client.get(f"/api/task/{ids['c']}").get_json()["queue_position"] == 2

    time.sleep(0.3)  # a run long enough to give a measurable pace
    releases["a"].set()
    poll(client, ids["b"], until=("running",))
    now = tasks()
    assert [now[t]["queue_position"] for t in "bcd"] == [None, 1, 2]
    pace = now["a"]["finished_at"] - now["a"]["started_at"]
    c, d = now["c"]["eta_seconds"], now["d"]["eta_seconds"]
    assert c is not None and c >= pace - 0.1  # at least its own run
    assert d - c == pytest.approx(pace, abs=0.11)  # one more run ahead (one worker)

    releases["b"].set()
    poll(client, ids["c"], until=("running",))
    single = client.get(f"/api/task/{ids['d']}").get_json()
    assert single["queue_position"] == 1 and single["eta_seconds"] > 0
    releases["c"].set()
    releases["d"].set()
    assert poll(client, ids["d"])["queue_position"] is None


# static/app.js's own render() on a stub DOM (Node): what a task's line says.
RENDER_HARNESS = r"""
const fs = require("fs");
function el() {
  const e = { hidden: false, textContent: "", dataset: {}, style: {}, className: "", parts: {},
    setAttribute() {}, addEventListener() {}, prepend() {},
    querySelector(sel) { return (e.parts[sel] = e.parts[sel] || el()); } };
  return e;
}
const li = el(), ids = {};
global.document = { cookie: "", getElementById: (id) => (ids[id] = ids[id] || (id === "task-template"
  ? { content: { firstElementChild: { cloneNode: () => li } } } : el())) };
global.localStorage = { getItem: () => "", setItem() {} };
global.fetch = () => new Promise(() => {});  // the page's first poll never answers
global.storyboardButtons = () => {};  // static/storyboard.js's, not loaded here
eval(fs.readFileSync(process.argv[2], "utf8") + "\nglobal.render = render;");
const lines = JSON.parse(process.argv[3]).map((task) => {
  render(task);
  const error = li.querySelector(".task-error");
  return [li.querySelector(".task-detail").textContent, error.hidden ? null : error.textContent];
});
console.log(JSON.stringify(lines));
"""


def page_lines(tmp_path, tasks: list[dict]) -> list[list]:
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "Node.js is not installed (apt-get install -y nodejs): the page's render() is not run"
        )
    harness = tmp_path / "render.js"
    harness.write_text(RENDER_HARNESS)
    out = subprocess.run(
        [node, str(harness), str(ROOT / "static" / "app.js"), json.dumps(tasks)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return json.loads(out)


def test_the_page_says_the_place_in_line_and_a_full_disk(tmp_path):
    base = {
        "id": "a" * 32,
        "stage": "queued",
        "progress": 0,
        "request": {"topic": "tea"},
        "error": None,
        "result": None,
    }
    message = "disk full: 1.5 MB free in DATA_DIR (/srv/instance)"
    lines = page_lines(
        tmp_path,
        [
            {**base, "status": "queued", "queue_position": 3, "eta_seconds": 70},
            {**base, "status": "queued", "queue_position": 1, "eta_seconds": 12.2},
            {**base, "status": "queued", "queue_position": 12, "eta_seconds": None},
            {
                **base,
                "status": "running",
                "stage": "render",
                "progress": 0.4,
                "queue_position": None,
                "eta_seconds": 12.2,
            },
            {
                **base,
                "status": "failed",
                "stage": "render",
                "queue_position": None,
                "eta_seconds": None,
                "error": {"stage": "render", "message": message},
            },
        ],
    )
    assert lines == [
        ["3rd in line · about 1 min", None],
        ["1st in line · about 13 s", None],
        ["12th in line", None],
        ["render · 40% · about 13 s left", None],
        ["failed", f"Failed at render: {message}"],
    ]


# -- disk space --------------------------------------------------------------
def test_create_answers_507_when_data_dir_is_nearly_full(tmp_path, monkeypatch):
    settings = tiny_settings(tmp_path, min_free_mb=500)
    app = create_app(
        {"SETTINGS": settings, "RUNNER": lambda task, report: {}, "START_WORKERS": False}
    )
    client = app.test_client()
    seen = []
    monkeypatch.setattr(disk, "free_bytes", lambda path: seen.append(Path(path)) or 3 * 1024 * 1024)
    reply = client.post("/api/create", json={"topic": "tea"})
    assert reply.status_code == 507 and seen == [settings.storage.data_dir]
    body = reply.get_json()
    assert body["free_mb"] == 3.0 and body["data_dir"] == str(settings.storage.data_dir)
    assert body["error"].startswith(
        f"disk full: 3.0 MB free in DATA_DIR ({settings.storage.data_dir})"
    )
    assert "MIN_FREE_MB (500)" in body["error"]
    assert client.get("/api/tasks").get_json()["tasks"] == []  # nothing was queued
    monkeypatch.setattr(disk, "free_bytes", lambda path: 501 * 1024 * 1024)
    assert client.post("/api/create", json={"topic": "tea"}).status_code == 202


def enospc(path=None):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path) if path else None)


def fail_in_encoder(monkeypatch):
    """The encoder writes half a video, then the disk is full; the app's
    render, scene by scene, hits the full disk in its first segment."""

    def encode(clip, path, *args, **kwargs):
        Path(path).write_bytes(b"\0" * 4096)
        raise enospc(path)

    def encode_segment(frame_yuv, plan, path, *args, **kwargs):
        raise enospc(path)

    monkeypatch.setattr(video_creator, "encode_video", encode)
    monkeypatch.setattr(segments, "encode_segment", encode_segment)


def fail_at_thumbnail(monkeypatch):
    """The video and subtitles are written; the thumbnail's rename hits ENOSPC."""
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".jpg"):
            raise enospc(dst)
        return real(src, dst)

    monkeypatch.setattr(video_creator.os, "replace", replace)


@pytest.mark.parametrize("inject", [fail_in_encoder, fail_at_thumbnail])
def test_a_full_disk_during_a_render_fails_plainly_and_leaves_nothing(
    tmp_path, monkeypatch, inject
):
    settings = tiny_settings(tmp_path, min_free_mb=0)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    try:
        inject(monkeypatch)
        monkeypatch.setattr(disk, "free_bytes", lambda path: int(1.5 * 1024 * 1024))
        task_id = client.post("/api/create", json={"topic": "tea", "script": SCRIPT}).get_json()[
            "task_id"
        ]
        task = poll(client, task_id)
    finally:
        app.extensions["reelsmith"].shutdown(10)
    assert task["status"] == "failed"
    assert task["error"] == {
        "stage": "render",
        "message": f"disk full: 1.5 MB free in DATA_DIR ({settings.storage.data_dir})",
    }
    assert (
        list((settings.storage.data_dir / "videos").iterdir()) == []
    )  # no partial file, no work folder


def test_the_cli_says_disk_full_too(tmp_path, monkeypatch):
    (tmp_path / "s.txt").write_text(SCRIPT)
    fail_in_encoder(monkeypatch)
    monkeypatch.setattr(disk, "free_bytes", lambda path: 0)
    out_dir = tmp_path / "out"
    runner = create_app(
        {"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False}
    ).test_cli_runner()
    result = runner.invoke(
        args=[
            "create",
            "tea",
            "--script",
            str(tmp_path / "s.txt"),
            "--out",
            str(out_dir / "tea.mp4"),
        ]
    )
    assert result.exit_code == 1
    assert f"render: disk full: 0.0 MB free in the output folder ({out_dir})" in result.output
    assert list(out_dir.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 3 MB tmpfs (needs root or CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if tried.returncode:
        pytest.skip(
            "a 3 MB tmpfs could not be mounted here (needs root or CAP_SYS_ADMIN): "
            + (tried.stderr.strip() or f"exit code {tried.returncode}")
        )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_real_full_disk(tiny_disk, tmp_path):
    """On a real 3 MB file system: 507 with the default MIN_FREE_MB, then with the
    check lowered, a render that runs out of space fails with "disk full"."""
    settings = Settings.build(
        data_dir=tiny_disk,
        cache_dir=tmp_path / "cache",
        discover_local_llm=False,
        render=RenderSettings(width=360, height=640, preset="veryfast"),
    )
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    reply = app.test_client().post("/api/create", json={"topic": "tea"})
    assert reply.status_code == 507
    assert 2.0 <= reply.get_json()["free_mb"] <= 3.0
    assert f"MB free in DATA_DIR ({tiny_disk})" in reply.get_json()["error"]

    # Leave about 600 KB: enough to queue (SQLite needs some), not for the voice and video.
    filler = tiny_disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * (disk.free_bytes(tiny_disk) - 600 * 1024))
    before = {p.name for p in (tiny_disk / "videos").iterdir()}
    app = create_app({"SETTINGS": settings.with_(min_free_mb=0), "TESTING": True})
    client = app.test_client()
    try:
        task_id = client.post(
            "/api/create", json={"topic": "tea", "script": SCRIPT * 3}
        ).get_json()["task_id"]
        task = poll(client, task_id)
    finally:
        app.extensions["reelsmith"].shutdown(10)
    assert task["status"] == "failed", task
    assert re.fullmatch(
        rf"disk full: \d+\.\d MB free in DATA_DIR \({re.escape(str(tiny_disk))}\)",
        task["error"]["message"],
    ), task["error"]
    assert task["error"]["stage"] in ("voice", "render")
    assert {p.name for p in (tiny_disk / "videos").iterdir()} == before  # nothing left behind
