"""Issue 17, a newcomer's first hour: settings in .env, progress in the CLI,
a queued task's place in line, and a full disk said plainly."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from dataclasses import fields
from pathlib import Path

import pytest
from dotenv import dotenv_values

import app as app_module
import disk
import video_creator
from app import create_app, load_env_file
from config import RenderSettings, Settings
from tests.media import probe
from tests.test_app import poll

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
SCRIPT = "Tea is a leaf. People brew it hot. Some drink it cold."


def tiny_settings(tmp_path, **overrides) -> Settings:
    return Settings(data_dir=tmp_path / "instance", cache_dir=tmp_path / "cache",
                    discover_local_llm=False,
                    render=RenderSettings(width=180, height=320, preset="veryfast"), **overrides)


def child_env(tmp_path, **extra) -> dict[str, str]:
    """A clean environment for a child process: no settings but these."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "DISCOVER_LOCAL_LLM": "0", "RETENTION_DAYS": "0", **extra}


@pytest.fixture
def environ():
    """os.environ as it was, again after the test (load_dotenv writes to it)."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


# -- .env -------------------------------------------------------------------
def example_lines() -> dict[str, str]:
    """NAME -> value of every ``#NAME=value`` line in .env.example."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^#([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.M))


def test_env_example_names_every_setting_with_its_default(tmp_path):
    listed = example_lines()
    names = {f.name.upper() for f in fields(Settings) if f.name != "render"}
    names |= {"RENDER_" + f.name.upper() for f in fields(RenderSettings)}
    assert set(listed) == names, ("missing: " + ", ".join(sorted(names - set(listed))) +
                                  "; unknown: " + ", ".join(sorted(set(listed) - names)))
    # Uncommented, the file gives exactly the defaults (the folders relative to app.py).
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in listed.items()))
    values = dotenv_values(env_file)
    for name in ("DATA_DIR", "CACHE_DIR"):
        assert ROOT / values.pop(name) == getattr(Settings(), name.lower())
    assert Settings.from_env(values) == Settings()


def test_env_file_fills_what_the_environment_does_not_set(tmp_path, environ):
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATA_DIR={tmp_path / 'from-file'}\nWORKERS=3\n"
                        "OPENAI_MODEL=model-from-file\nFLASK_SKIP_DOTENV=\n")
    for name in ("DATA_DIR", "WORKERS", "FLASK_SKIP_DOTENV"):
        environ.pop(name, None)
    environ["OPENAI_MODEL"] = "model-from-environment"
    assert load_env_file(env_file)
    settings = Settings.from_env()
    assert settings.data_dir == tmp_path / "from-file" and settings.workers == 3
    assert settings.openai_model == "model-from-environment"  # the environment wins


def test_flask_skip_dotenv_turns_reading_off(tmp_path, environ):
    env_file = tmp_path / ".env"
    env_file.write_text("WORKERS=5\n")
    environ.pop("WORKERS", None)
    environ["FLASK_SKIP_DOTENV"] = "1"
    assert not load_env_file(env_file)
    assert "WORKERS" not in environ and Settings.from_env().workers == 1


def test_create_app_reads_no_env_file_in_tests(tmp_path, environ, monkeypatch):
    """Only the real app reads .env: a test's create_app (SETTINGS given, or no
    flask command) never does, whatever a developer keeps there."""
    env_file = tmp_path / ".env"
    env_file.write_text("QUEUE_SIZE=7\n")
    monkeypatch.setattr(app_module, "ENV_FILE", env_file)
    environ.pop("QUEUE_SIZE", None)
    environ.pop("FLASK_SKIP_DOTENV", None)
    environ["FLASK_RUN_FROM_CLI"] = "true"
    app = create_app({"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False})
    assert app.config["SETTINGS"].queue_size == 100 and "QUEUE_SIZE" not in environ
    environ["DATA_DIR"], environ["CACHE_DIR"] = str(tmp_path / "d"), str(tmp_path / "c")
    app = create_app({"START_WORKERS": False})  # what `flask --app app ...` builds
    assert app.config["SETTINGS"].queue_size == 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_app_py_reads_its_env_file_and_the_environment_wins(tmp_path):
    """``python app.py`` (what ``make run`` runs) reads .env before its settings."""
    env_file = tmp_path / ".env"
    env_file.write_text(f"API_TOKEN=token-from-file\nDATA_DIR={tmp_path / 'data'}\n"
                        f"CACHE_DIR={tmp_path / 'cache'}\nWORKERS=0\n")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--env-file", str(env_file)],
        env=child_env(tmp_path, API_TOKEN="token-from-environment"), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/status"
        deadline = time.monotonic() + 30
        while True:
            try:
                status = get(url, "token-from-environment")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, \
                    server.stdout.read().decode() if server.poll() is not None else "no answer"
                time.sleep(0.1)
        assert status == 200
        assert get(url, "token-from-file") == 401  # the environment's token won
        assert (tmp_path / "data" / "tasks.sqlite3").is_file()  # DATA_DIR came from the file
    finally:
        server.send_signal(signal.SIGTERM)
        log = server.communicate(timeout=30)[0].decode()
    assert f"settings from {env_file}" in log


# -- progress in the CLI ------------------------------------------------------
PLAIN_LINE = re.compile(r"^(?P<stage>[a-z]+(?: \d+/\d+)?) (?P<pct>\d+)%(?: · about \d+ (?:s|min) left)?$")


def progress_lines(output: str) -> list[tuple[str, int]]:
    return [(m["stage"], int(m["pct"])) for m in map(PLAIN_LINE.match, output.splitlines()) if m]


def test_create_prints_plain_progress_lines_when_not_on_a_terminal(tmp_path):
    (tmp_path / "s.txt").write_text(SCRIPT)
    runner = create_app({"SETTINGS": tiny_settings(tmp_path),
                         "START_WORKERS": False}).test_cli_runner()
    result = runner.invoke(args=["create", "tea", "--script", str(tmp_path / "s.txt"),
                                 "--out", str(tmp_path / "tea.mp4")])
    assert result.exit_code == 0, result.output
    lines = progress_lines(result.output)
    stages = [stage for stage, _ in lines]
    assert stages[:4] == ["script", "voice", "visuals", "render"] and stages[-1] == "done"
    assert lines[0] == ("script", 2) and lines[-1] == ("done", 100)
    percents = [pct for _, pct in lines]
    assert percents == sorted(percents)
    renders = [pct for stage, pct in lines if stage == "render"]
    assert len(renders) >= 5 and all(b - a >= 10 for a, b in zip(renders, renders[1:]))
    assert re.search(r"^render \d+% · about \d+ s left$", result.output, flags=re.M)
    assert "\r" not in result.output and "|" not in result.output  # no bar in a pipe


def test_batch_prints_the_whole_batch_progress(tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("tea\ncoffee\n")
    runner = create_app({"SETTINGS": tiny_settings(tmp_path),
                         "START_WORKERS": False}).test_cli_runner()
    result = runner.invoke(args=["batch", str(topics), "--out", str(tmp_path / "v"),
                                 "--length", "10"])
    assert result.exit_code == 0, result.output
    lines = progress_lines(result.output)
    stages = [stage for stage, _ in lines]
    assert {"script 1/2", "voice 1/2", "script 2/2", "voice 2/2", "render"} <= set(stages)
    assert stages.index("script 2/2") < stages.index("render") and lines[-1] == ("done", 100)
    percents = [pct for _, pct in lines]
    assert percents == sorted(percents) and percents[stages.index("script 2/2")] < 50
    assert sorted(p.name for p in (tmp_path / "v").glob("*.mp4")) == ["001.mp4", "002.mp4"]


def run_on_terminal(cmd: list[str], env: dict, cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``cmd`` with a pseudo-terminal (100 columns) as its stdin, stdout and
    stderr; return its exit code and everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            start_new_session=True)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise AssertionError(f"no output for {timeout}s: {b''.join(chunks)!r}")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if proc.poll() is None and not chunks:
            proc.kill()
        proc.wait(timeout=30)
        os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", errors="replace")


def test_create_shows_a_bar_on_a_terminal(tmp_path):
    (tmp_path / "s.txt").write_text(SCRIPT)
    env = child_env(tmp_path, DATA_DIR=str(tmp_path / "data"), CACHE_DIR=str(tmp_path / "cache"),
                    RENDER_WIDTH="180", RENDER_HEIGHT="320", RENDER_PRESET="veryfast",
                    FLASK_SKIP_DOTENV="1", TERM="xterm")
    code, output = run_on_terminal(
        [str(FLASK), "--app", str(ROOT / "app.py"), "create", "tea", "--script", "s.txt",
         "--out", "tea.mp4"], env, tmp_path)
    assert code == 0, output
    frames = output.split("\r")  # tqdm redraws its line in place
    bars = [f for f in frames if re.search(r"\d+%\|[█▏▎▍▌▋▊▉ ]+\|", f)]
    assert len(bars) >= 5, output
    assert any(re.match(r"\s*render\s+\d+%\|", f) for f in bars)
    assert any(re.search(r"render\s+\d+%\|.*\| about \d+ s left", f) for f in bars)
    assert any(re.match(r"\s*done\s+100%\|█+\|", f) for f in bars)
    assert not progress_lines(output.replace("\r", "\n"))  # no plain lines on a terminal
    assert "tea.mp4: " in output and probe(tmp_path / "tea.mp4").width == 180


def test_the_flask_command_reads_env_in_its_folder_and_prints_plain_lines_in_a_pipe(tmp_path):
    """Flask's own .env loading (python-dotenv installed): the file in the
    current folder fills in, the environment wins."""
    (tmp_path / "s.txt").write_text(SCRIPT)
    (tmp_path / ".env").write_text(
        f"DATA_DIR={tmp_path / 'data'}\nCACHE_DIR={tmp_path / 'cache'}\n"
        "RENDER_WIDTH=180\nRENDER_HEIGHT=640\nRENDER_PRESET=veryfast\n")
    result = subprocess.run(
        [str(FLASK), "--app", str(ROOT / "app.py"), "create", "tea", "--script", "s.txt",
         "--out", "tea.mp4"], env=child_env(tmp_path, RENDER_HEIGHT="320"), cwd=tmp_path,
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    info = probe(tmp_path / "tea.mp4")
    assert (info.width, info.height) == (180, 320)  # width from .env, height from the environment
    assert (tmp_path / "data").is_dir()
    assert progress_lines(result.stderr)[-1] == ("done", 100) and "\r" not in result.stderr
    assert result.stdout.startswith("tea.mp4: ")  # the result alone on stdout


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

    app = create_app({"SETTINGS": tiny_settings(tmp_path, min_free_mb=0), "RUNNER": runner,
                      "TESTING": True})
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
        pytest.skip("Node.js is not installed (apt-get install -y nodejs): the page's render() "
                    "is not run")
    harness = tmp_path / "render.js"
    harness.write_text(RENDER_HARNESS)
    out = subprocess.run([node, str(harness), str(ROOT / "static" / "app.js"), json.dumps(tasks)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def test_the_page_says_the_place_in_line_and_a_full_disk(tmp_path):
    base = {"id": "a" * 32, "stage": "queued", "progress": 0, "request": {"topic": "tea"},
            "error": None, "result": None}
    message = "disk full: 1.5 MB free in DATA_DIR (/srv/instance)"
    lines = page_lines(tmp_path, [
        {**base, "status": "queued", "queue_position": 3, "eta_seconds": 70},
        {**base, "status": "queued", "queue_position": 1, "eta_seconds": 12.2},
        {**base, "status": "queued", "queue_position": 12, "eta_seconds": None},
        {**base, "status": "running", "stage": "render", "progress": 0.4, "queue_position": None,
         "eta_seconds": 12.2},
        {**base, "status": "failed", "stage": "render", "queue_position": None,
         "eta_seconds": None, "error": {"stage": "render", "message": message}},
    ])
    assert lines == [["3rd in line · about 1 min", None], ["1st in line · about 13 s", None],
                     ["12th in line", None], ["render · 40% · about 13 s left", None],
                     ["failed", f"Failed at render: {message}"]]


# -- disk space --------------------------------------------------------------
def test_create_answers_507_when_data_dir_is_nearly_full(tmp_path, monkeypatch):
    settings = tiny_settings(tmp_path, min_free_mb=500)
    app = create_app({"SETTINGS": settings, "RUNNER": lambda task, report: {},
                      "START_WORKERS": False})
    client = app.test_client()
    seen = []
    monkeypatch.setattr(disk, "free_bytes",
                        lambda path: seen.append(Path(path)) or 3 * 1024 * 1024)
    reply = client.post("/api/create", json={"topic": "tea"})
    assert reply.status_code == 507 and seen == [settings.data_dir]
    body = reply.get_json()
    assert body["free_mb"] == 3.0 and body["data_dir"] == str(settings.data_dir)
    assert body["error"].startswith(f"disk full: 3.0 MB free in DATA_DIR ({settings.data_dir})")
    assert "MIN_FREE_MB (500)" in body["error"]
    assert client.get("/api/tasks").get_json()["tasks"] == []  # nothing was queued
    monkeypatch.setattr(disk, "free_bytes", lambda path: 501 * 1024 * 1024)
    assert client.post("/api/create", json={"topic": "tea"}).status_code == 202


def enospc(path=None):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path) if path else None)


def fail_in_encoder(monkeypatch):
    """The encoder writes half a video, then the disk is full."""
    def encode(clip, size, path, audio, r, logger=None):
        Path(path).write_bytes(b"\0" * 4096)
        raise enospc(path)
    monkeypatch.setattr(video_creator, "encode_video", encode)


def fail_at_thumbnail(monkeypatch):
    """The video and subtitles are written; the thumbnail's rename hits ENOSPC."""
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".jpg"):
            raise enospc(dst)
        return real(src, dst)
    monkeypatch.setattr(video_creator.os, "replace", replace)


@pytest.mark.parametrize("inject", [fail_in_encoder, fail_at_thumbnail])
def test_a_full_disk_during_a_render_fails_plainly_and_leaves_nothing(tmp_path, monkeypatch,
                                                                      inject):
    settings = tiny_settings(tmp_path, min_free_mb=0)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    try:
        inject(monkeypatch)
        monkeypatch.setattr(disk, "free_bytes", lambda path: int(1.5 * 1024 * 1024))
        task_id = client.post("/api/create", json={"topic": "tea", "script": SCRIPT}
                              ).get_json()["task_id"]
        task = poll(client, task_id)
    finally:
        app.extensions["reelsmith"].shutdown(10)
    assert task["status"] == "failed"
    assert task["error"] == {"stage": "render", "message":
                             f"disk full: 1.5 MB free in DATA_DIR ({settings.data_dir})"}
    assert list((settings.data_dir / "videos").iterdir()) == []  # no partial file, no work folder


def test_the_cli_says_disk_full_too(tmp_path, monkeypatch):
    (tmp_path / "s.txt").write_text(SCRIPT)
    fail_in_encoder(monkeypatch)
    monkeypatch.setattr(disk, "free_bytes", lambda path: 0)
    out_dir = tmp_path / "out"
    runner = create_app({"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False}
                        ).test_cli_runner()
    result = runner.invoke(args=["create", "tea", "--script", str(tmp_path / "s.txt"),
                                 "--out", str(out_dir / "tea.mp4")])
    assert result.exit_code == 1
    assert f"render: disk full: 0.0 MB free in the output folder ({out_dir})" in result.output
    assert list(out_dir.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 3 MB tmpfs (needs root or CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                           capture_output=True, text=True)
    if tried.returncode:
        pytest.skip("a 3 MB tmpfs could not be mounted here (needs root or CAP_SYS_ADMIN): "
                    + (tried.stderr.strip() or f"exit code {tried.returncode}"))
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_real_full_disk(tiny_disk, tmp_path):
    """On a real 3 MB file system: 507 with the default MIN_FREE_MB, then with the
    check lowered, a render that runs out of space fails with "disk full"."""
    settings = Settings(data_dir=tiny_disk, cache_dir=tmp_path / "cache",
                        discover_local_llm=False,
                        render=RenderSettings(width=360, height=640, preset="veryfast"))
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
        task_id = client.post("/api/create", json={"topic": "tea", "script": SCRIPT * 3}
                              ).get_json()["task_id"]
        task = poll(client, task_id)
    finally:
        app.extensions["reelsmith"].shutdown(10)
    assert task["status"] == "failed", task
    assert re.fullmatch(rf"disk full: \d+\.\d MB free in DATA_DIR \({re.escape(str(tiny_disk))}\)",
                        task["error"]["message"]), task["error"]
    assert task["error"]["stage"] in ("voice", "render")
    assert {p.name for p in (tiny_disk / "videos").iterdir()} == before  # nothing left behind
