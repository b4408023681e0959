"""Runnable examples of the performance features, offline, in well under a minute.

    .venv/bin/python examples_performance.py

1. the disk cache with a per-entry TTL;
2. a pooled script generator against a local OpenAI-compatible server
   (one TCP connection for many calls);
3. a small batch render (Pipeline.run_batch, the renders through VideoCreator.render_batch);
4. queueing a video through the HTTP API and polling it.

Everything stays on 127.0.0.1 and in a temporary folder.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from cache import Cache
from content_generator import ContentGenerator
from pipeline import Pipeline
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.request import CreateRequest
from tests.helpers.servers import FakeOpenAI  # a small keep-alive OpenAI-compatible server

SMALL = RenderSettings(width=270, height=480, preset="veryfast")


def cache_with_ttl(folder: Path) -> None:
    cache = Cache(folder / "cache", default_ttl=3600, max_size_mb=50)
    cache.set("script:octopus", {"title": "Three hearts"})  # lives an hour
    cache.set("breaking-news", "changes fast", ttl_override=0.2)  # lives 0.2 s
    cache.set("old-poll", [1, 2, 3], ttl_override=0.2)
    time.sleep(0.3)
    print(
        f"1. cache: kept={cache.get('script:octopus')} expired={cache.get('breaking-news')!r} "
        f"size={cache.get_size()} bytes, cleaned={cache.cleanup_expired()}"
    )


def pooled_generator() -> None:
    with FakeOpenAI() as server:
        settings = Settings.build(
            openai_api_key="sk-local-example", openai_base_url=server.base_url
        )
        generators = [ContentGenerator(settings=settings) for _ in range(3)]  # share one pool
        for i in range(9):
            generators[i % 3].generate_script(f"fact number {i}")
        print(
            f"2. pooled generator: {len(server.requests)} requests over "
            f"{server.connections} TCP connection(s)"
        )


def batch_render(folder: Path) -> None:
    settings = Settings.build(render=SMALL, cache_dir=folder / "cache")
    requests = [CreateRequest(topic=t) for t in ["why the sky is blue", "how bees make honey"]]
    started = time.perf_counter()
    results = Pipeline(settings).run_batch(requests, folder / "batch", max_workers=2)
    names = sorted(p.name for p in (folder / "batch").glob("*.mp4"))
    print(f"3. batch: {names} ({len(results)} results) in {time.perf_counter() - started:.1f} s")


def queue_through_api(folder: Path) -> None:
    from waitress.server import create_server

    from app import create_app

    settings = Settings.build(
        data_dir=folder / "instance", cache_dir=folder / "cache", render=SMALL
    )
    app = create_app({"SETTINGS": settings})
    server = create_server(app, host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        request = urllib.request.Request(
            f"{base}/api/create",
            method="POST",
            data=json.dumps({"topic": "why cats purr"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request) as resp:
            created = json.load(resp)
        answered = time.perf_counter() - started
        while True:
            with urllib.request.urlopen(base + created["status_url"]) as resp:
                task = json.load(resp)
            if task["status"] not in ("queued", "running"):
                break
            time.sleep(0.2)
        print(
            f"4. API: answered 202 in {answered * 1000:.0f} ms; task {task['status']} "
            f"after {time.perf_counter() - started:.1f} s; video at {task['links']['video']}"
        )
    finally:
        server.close()
        app.extensions["reelsmith"].shutdown(30)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelsmith-examples-") as tmp:
        folder = Path(tmp)
        cache_with_ttl(folder)
        pooled_generator()
        batch_render(folder)
        queue_through_api(folder)


if __name__ == "__main__":
    main()
