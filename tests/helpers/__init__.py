"""Helpers the tests share: free ports, waiting, polling a task, small settings.

Fakes that speak real protocols live beside this file, one module each
(``servers`` for OpenAI-compatible and webhook servers, ``fake_edge``,
``fake_gtts``, ``fake_visuals``, ``redis_server``); ``media`` makes and probes
real media with ffmpeg; ``live`` serves an app with waitress.
"""

from __future__ import annotations

import os
import socket
import time

from reelsmith.core.settings import RenderSettings, Settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.01):
    """Call ``predicate`` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout} s")


def poll(client, task_id, until=("done", "failed", "canceled"), timeout=120):
    """Poll ``GET /api/task/<id>`` with a Flask test client until its status is in ``until``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/task/{task_id}").get_json()
        if body["status"] in until:
            return body
        time.sleep(0.05)
    raise AssertionError(f"task still {body['status']} after {timeout}s: {body}")


def make_settings(tmp_path, **overrides) -> Settings:
    """Settings for a test: its own data and cache folders, a small fast render."""
    return Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "instance" / "cache",
        render=RenderSettings(width=270, height=480, preset="veryfast"),
        **overrides,
    )


def tiny_settings(tmp_path, **overrides) -> Settings:
    """Settings for a render test at 180x320, with no local script server looked for."""
    return Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "cache",
        discover_local_llm=False,
        render=RenderSettings(width=180, height=320, preset="veryfast"),
        **overrides,
    )


def child_env(tmp_path, **extra) -> dict[str, str]:
    """A clean environment for a child process: no settings but these."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DISCOVER_LOCAL_LLM": "0",
        "RETENTION_DAYS": "0",
        **extra,
    }
