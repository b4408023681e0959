"""More machines: a web process and worker processes with their own DATA_DIR
(as separate machines), one real redis-server, a shared storage folder.

Each semantic is one test: SIGKILL redelivery (and a second
interruption failing the task), cancel across machines, SIGTERM handing the
task back, a Redis restart losing no acknowledged task, clear start-up errors;
and a worker sending a task's webhook (once, done or failed).
Tiny renders (180x320, veryfast, short scripts). Deadlines below only bound a
hang; the timing goals are measured by benchmarks/scale.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.helpers.cluster import SCRIPT, Cluster, call
from tests.helpers.media import probe
from tests.helpers.redis_server import RedisServer, require_redis
from tests.helpers.servers import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
LONG = " ".join([SCRIPT] * 3)  # a render long enough to be caught in the middle on a busy machine


@pytest.fixture
def redis_server(tmp_path):
    require_redis()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path, redis_server):
    c = Cluster(tmp_path, redis_server.url)
    c.start_web()
    yield c
    c.stop()


def rendering(task) -> bool:
    assert task["status"] in ("queued", "running"), task
    return task["stage"] == "render" and task["progress"] > 0.3


def no_partial_listed(task_id):
    """The outputs are published only after the render (stage "finishing",
    mp4 last), never from a worker killed mid-render. The listing is taken
    before the task is read, so a listed mp4 means the task had reached
    "finishing" (or ended) when it was read."""

    def watch(task, listed):
        for name in listed:
            assert not name.startswith("."), f"a temporary file is listed: {name}"
            if name.startswith(task_id) and task["status"] in ("queued", "running"):
                assert task["stage"] == "finishing", (name, task["stage"])

    return watch


def test_sigkill_mid_render_runs_again_on_another_machine_then_a_second_kill_fails_it(cluster):
    first, second = cluster.start_worker("w1"), cluster.start_worker("w2")
    # LONG: a short render can end between two polls on an idle machine, before the kill.
    task_id = cluster.create(script=LONG, length=45)
    cluster.wait(task_id, rendering)
    victim = cluster.holder_pid(task_id)
    survivor = second if victim == first.pid else first
    os.kill(victim, signal.SIGKILL)

    watch = no_partial_listed(task_id)
    done = cluster.wait(
        task_id, lambda t: t["status"] in ("done", "failed", "canceled"), watch=watch
    )
    assert done["status"] == "done" and done["attempts"] == 2
    events = cluster.events(task_id)  # as on one machine: queued again, then run
    assert events[events.index("re-queued after interruption") + 1] == "started"
    assert f"{task_id}.mp4" in cluster.listed()
    with urllib.request.urlopen(f"{cluster.base}/api/task/{task_id}/video") as resp:
        (cluster.tmp / "got.mp4").write_bytes(resp.read())
    assert probe(cluster.tmp / "got.mp4").duration > 3
    assert cluster.web.poll() is None and survivor.poll() is None

    # A second interruption fails the task with "interrupted", as on one machine.
    again = cluster.create(script=LONG, length=45)
    cluster.wait(again, rendering)
    os.kill(cluster.holder_pid(again), signal.SIGKILL)  # the survivor: attempt 1
    cluster.start_worker("w3")
    cluster.wait(again, lambda t: t["attempts"] == 2 and rendering(t))
    os.kill(cluster.holder_pid(again), signal.SIGKILL)  # w3: attempt 2
    cluster.start_worker("w4")
    failed = cluster.wait(again, lambda t: t["status"] in ("done", "failed", "canceled"))
    assert failed["status"] == "failed" and failed["error"]["message"].startswith("interrupted")
    assert not any(n.startswith(again) for n in cluster.listed())


def test_cancel_from_the_web_reaches_a_render_on_a_worker(cluster):
    worker = cluster.start_worker("w1")
    task_id = cluster.create(script=LONG, length=45)
    cluster.wait(task_id, rendering)
    status, body = call(f"{cluster.base}/api/task/{task_id}/cancel", {}, method="POST")
    assert status in (200, 202), body
    canceled = cluster.wait(task_id, lambda t: t["status"] in ("done", "failed", "canceled"))
    assert canceled["status"] == "canceled" and canceled["stage"] == "canceled"
    assert "canceled while running" in cluster.events(task_id)
    assert not any(n.startswith(task_id) for n in cluster.listed())
    # the worker is free again: the next task is rendered
    follow = cluster.create()
    assert cluster.wait(follow, lambda t: t["status"] in ("done", "failed"))["status"] == "done"
    assert worker.poll() is None


def test_sigterm_hands_the_task_back(cluster):
    leaving = cluster.start_worker("w1")
    task_id = cluster.create(script=LONG, length=45)
    cluster.wait(task_id, rendering)
    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(60) == 0
    task = cluster.task(task_id)
    assert task["status"] == "queued", task
    assert "interrupted by shutdown; will run again on start" in cluster.events(task_id)
    cluster.start_worker("w2")
    assert cluster.wait(task_id, lambda t: t["status"] in ("done", "failed"))["status"] == "done"


def test_redis_restart_loses_no_acknowledged_task(tmp_path):
    require_redis()
    server = RedisServer(tmp_path / "redis", persistent=True).start()
    c = Cluster(tmp_path, server.url)
    try:
        c.start_web()
        c.start_worker("w1")
        ids = [c.create(script=LONG, length=45) for _ in range(3)]  # each answered 202
        c.wait(ids[0], rendering)
        server.restart()  # SIGKILL, then start again from its append-only file
        for task_id in ids:
            assert c.wait(task_id, lambda t: t["status"] in ("done", "failed"))["status"] == "done"
        assert all(f"{i}.mp4" in c.listed() for i in ids)
    finally:
        c.stop()
        server.stop()


def test_a_worker_that_cannot_reach_redis_or_storage_says_so(tmp_path, redis_server):
    env = dict(
        os.environ, DATA_DIR=str(tmp_path / "w"), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"
    )
    run = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "cannot reach Redis at 127.0.0.1" in run.stderr and "REDIS_URL" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout

    env.update(
        REDIS_URL=redis_server.url,
        STORAGE_URL="s3://reels/out",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
        AWS_DEFAULT_REGION="us-east-1",
    )
    run = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "cannot reach storage s3://reels/out" in run.stderr and "STORAGE_URL" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_an_upload_to_the_web_machine_is_rendered_on_a_worker_machine(cluster):
    import io

    import httpx
    from PIL import Image

    cluster.start_worker("w1")
    image = io.BytesIO()
    Image.new("RGB", (90, 160), (20, 200, 40)).save(image, "PNG")
    response = httpx.post(
        f"{cluster.base}/api/create",
        data={"topic": "green", "script": SCRIPT, "length": "15"},
        files={"backgrounds": ("green.png", image.getvalue(), "image/png")},
    )
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    name = cluster.task(task_id)["request"]["backgrounds"][0]
    # moved from the web machine's folder into the storage before the 202...
    assert not (cluster.tmp / "web" / "uploads" / name).exists()
    done = cluster.wait(task_id, lambda t: t["status"] in ("done", "failed"))
    assert done["status"] == "done", done["error"]
    assert done["result"]["visuals"] == "upload"  # ...and fetched from there by the worker
    assert list((cluster.shared / "uploads").glob("*")) == []  # shared copy removed after


class HookReceiver(WebhookReceiver):
    """Webhook POSTs, each recorded with the process that sent it: the
    socket's other end is looked up (while it is open) in /proc among
    ``candidates`` (pid -> name)."""

    def __init__(self):
        super().__init__()
        self.candidates: dict[int, str] = {}

    @property
    def url(self) -> str:
        return super().url + "/hook"

    def about(self, handler) -> dict:
        return {"sender": self.sender(handler.client_address[1])}

    def sender(self, peer_port: int) -> str:
        """The candidate holding the client end of 127.0.0.1:peer_port -> our port."""
        ours = self._server.server_address[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if local == f"0100007F:{peer_port:04X}" and remote == f"0100007F:{ours:04X}":
                inode = fields[9]
        if inode is None:
            return "unknown"
        for pid, name in list(self.candidates.items()):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return name
                except OSError:
                    pass
        return "unknown"

    def for_task(self, task_id) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if (r["body"] or {}).get("id") == task_id]

    def wait_for(self, task_id, limit=30.0) -> dict:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.for_task(task_id):
                return self.for_task(task_id)[0]
            time.sleep(0.05)
        raise AssertionError(f"no webhook for {task_id} within {limit} s: {self.requests}")


@pytest.fixture
def hooked_cluster(tmp_path, redis_server):
    """``cluster`` with WEBHOOK_ALLOW_PRIVATE on every machine: the receiver is on loopback."""
    c = Cluster(tmp_path, redis_server.url)
    c.overrides["WEBHOOK_ALLOW_PRIVATE"] = "1"
    try:
        c.start_web()
        with HookReceiver() as hooks:
            hooks.candidates[c.web.pid] = "web"
            yield c, hooks
    finally:
        c.stop()


def test_a_task_rendered_on_a_worker_gets_its_webhook_once_from_that_worker(hooked_cluster):
    cluster, hooks = hooked_cluster

    def finished(task):
        return task["status"] in ("done", "failed", "canceled")

    # Done: created on the web machine, rendered (and announced) on w1.
    w1 = cluster.start_worker("w1")
    hooks.candidates[w1.pid] = "w1"
    done_id = cluster.create(webhook_url=hooks.url)
    done = cluster.wait(done_id, finished)
    assert done["status"] == "done", done["error"]
    post = hooks.wait_for(done_id)
    assert post["sender"] == "w1"
    body = post["body"]
    assert body["status"] == "done" and body["stage"] == "done" and body["error"] is None
    assert body["result"] == done["result"] and body["result"]["duration"] > 3
    assert (body["result"]["width"], body["result"]["height"]) == (180, 320)
    assert body["request"]["webhook_url"] == hooks.url and body["attempts"] == 1
    delivered = cluster.wait(
        done_id, lambda t: "webhook delivered (HTTP 200, attempt 1)" in cluster.events(done_id)
    )  # recorded by w1, seen from the web
    assert delivered["status"] == "done"
    # SIGTERM: w1 leaves (after its webhook threads), so nothing more can come from it.
    w1.send_signal(signal.SIGTERM)
    assert w1.wait(60) == 0

    # Failed: w2 has a MUSIC_PATH naming no file, so the render stage fails there.
    cluster.overrides["MUSIC_PATH"] = str(cluster.tmp / "gone.mp3")
    w2 = cluster.start_worker("w2")
    del cluster.overrides["MUSIC_PATH"]
    hooks.candidates[w2.pid] = "w2"
    failed_id = cluster.create(webhook_url=hooks.url)
    failed = cluster.wait(failed_id, finished)
    error = {"stage": "render", "message": "the music bed in MUSIC_PATH does not exist: gone.mp3"}
    assert failed["status"] == "failed" and failed["error"] == error, failed
    post = hooks.wait_for(failed_id)
    assert post["sender"] == "w2"
    assert post["body"]["status"] == "failed" and post["body"]["error"] == error
    assert post["body"]["result"] is None
    cluster.wait(
        failed_id, lambda t: "webhook delivered (HTTP 200, attempt 1)" in cluster.events(failed_id)
    )
    w2.send_signal(signal.SIGTERM)
    assert w2.wait(60) == 0

    # Exactly once each: both workers are gone and the web process sent nothing.
    assert [p["sender"] for p in hooks.for_task(done_id)] == ["w1"]
    assert [p["sender"] for p in hooks.for_task(failed_id)] == ["w2"]
    assert len(hooks.requests) == 2
    for task_id in (done_id, failed_id):
        events = cluster.events(task_id)
        assert sum(e.startswith("webhook") for e in events) == 1, events
    assert cluster.web.poll() is None
