"""How long from typing a topic to a finished 1080x1920 MP4, through the API?

Starts the real app (`python app.py`, waitress, default settings: offline
writer, Piper voice, 1080x1920 30 fps, x264 medium) in its own process with
an empty data folder, then times POST /api/create -> status done for two
topics: the first right after start-up (loads the voice), the second warm.

    python benchmarks/topic_to_video.py

Last line: first_s=<topic to MP4, first request> second_s=<second request> video_s=<length of the video>
ratio=<second_s / video_s>
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["why octopuses have three hearts", "how do bees make honey"]


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="reelsmith-e2e-") as data:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RENDER_", "TTS_"))
        }
        env.update(DATA_DIR=data, CACHE_DIR=str(Path(data) / "cache"))
        server = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    call(f"{base}/api/tasks")
                    break
                except OSError:
                    time.sleep(0.1)
            rows = []
            for topic in TOPICS:
                started = time.perf_counter()
                task_id = call(f"{base}/api/create", {"topic": topic})["task_id"]
                while (task := call(f"{base}/api/task/{task_id}"))["status"] in (
                    "queued",
                    "running",
                ):
                    time.sleep(0.1)
                if task["status"] != "done":
                    raise SystemExit(f"task {task['status']}: {task['error']}")
                rows.append((topic, time.perf_counter() - started, task["result"]))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)

    print(
        f"machine: {os.cpu_count()} cores; default settings (1080x1920, 30 fps, x264 medium, "
        "offline writer, Piper voice)"
    )
    print("| topic | topic to MP4 s | video s | size |")
    print("|---|---|---|---|")
    for topic, secs, result in rows:
        print(
            f"| {topic} | {secs:.1f} | {result['duration']:.1f} | {result['width']}x{result['height']} |"
        )
    print(f"visuals: {rows[1][2]['visuals']}")
    print(
        f"first_s={rows[0][1]:.1f} second_s={rows[1][1]:.1f} video_s={rows[0][2]['duration']:.1f}"
        f" ratio={rows[1][1] / rows[0][2]['duration']:.2f}"
    )


if __name__ == "__main__":
    main()
