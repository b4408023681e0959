"""A web machine and worker machines on one Redis, as separate processes
(for the scale-out tests and benchmarks/scale.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "Octopuses have three hearts and blue blood. Two hearts move blood to the gills. "
    "The third one pumps it to the rest of the body. It stops beating when they swim."
)


def call(url, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method or ("POST" if data else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.load(resp)


class Cluster:
    """One web machine and any number of worker machines, as processes."""

    def __init__(self, tmp: Path, redis_url: str):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.redis_url = redis_url
        self.shared = tmp / "shared"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.web = None
        self.overrides: dict[str, str] = {}  # more environment for every process
        self.cpu: dict[str, int] = {}  # process name -> the one CPU it may use

    def env(self, name: str) -> dict:
        home = self.tmp / name
        return {
            **os.environ,
            "DATA_DIR": str(home),
            "CACHE_DIR": str(home / "cache"),
            "REDIS_URL": self.redis_url,
            "STORAGE_URL": str(self.shared),
            "OPENAI_API_KEY": "",
            "RENDER_WIDTH": "180",
            "RENDER_HEIGHT": "320",
            "RENDER_PRESET": "veryfast",
            "RENDER_FPS": "24",
            "VISUALS": "generated",
            "ENGINE_HEARTBEAT_TIMEOUT": "5",
            "WORKERS": "1",
            "SHUTDOWN_TIMEOUT": "20",
            "PYTHONUNBUFFERED": "1",
            **self.overrides,
        }

    def start_web(self):
        log = open(self.tmp / "web.log", "ab")
        self.web = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env("web"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.web)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/api/tasks", timeout=1)
                return self.web
            except OSError:
                assert self.web.poll() is None, (self.tmp / "web.log").read_text()
                time.sleep(0.1)
        raise AssertionError("the web process did not start")

    def start_worker(self, name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        cpu = self.cpu.get(name)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=ROOT,
            env=self.env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "worker ready" in (self.tmp / f"{name}.log").read_text():
                return proc
            assert proc.poll() is None, (self.tmp / f"{name}.log").read_text()
            time.sleep(0.1)
        raise AssertionError(f"worker {name} did not start")

    def create(self, **fields) -> str:
        status, body = call(
            f"{self.base}/api/create",
            {"topic": "octopus hearts", "script": SCRIPT, "length": 15, **fields},
        )
        assert status == 202, body
        return body["task_id"]

    def task(self, task_id) -> dict:
        return call(f"{self.base}/api/task/{task_id}")[1]

    def events(self, task_id) -> list[str]:
        return [e["message"] for e in call(f"{self.base}/api/task/{task_id}/events")[1]["events"]]

    def wait(self, task_id, until, limit=240.0, watch=None, every=0.05) -> dict:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            listed = self.listed()  # before the task: what it lists was published before
            task = self.task(task_id)
            if watch:
                watch(task, listed)
            if until(task):
                return task
            time.sleep(every)
        raise AssertionError(f"gave up waiting: {task}")

    def holder_pid(self, task_id) -> int:
        import redis

        holder = redis.Redis.from_url(self.redis_url).get(f"reelsmith:lease:{task_id}")
        return int(holder.decode().split(":")[1])

    def listed(self) -> list[str]:
        return (
            sorted(p.name for p in (self.shared / "videos").glob("*"))
            if (self.shared / "videos").exists()
            else []
        )

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
