"""The Reelsmith web app: a page, a JSON API and a background task worker.

Run it with ``make run`` (waitress, one process, so the in-process workers are
shared by every request), or ``python app.py --host 127.0.0.1 --port 5000``.
"""

from __future__ import annotations

import argparse
import atexit
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from flask import Flask

from reelsmith.core import storage as storage_mod
from reelsmith.core.exceptions import ConfigError, TaskInterrupted
from reelsmith.core.settings import Settings
from reelsmith.tasks.queue import Task, TaskQueue, TaskStore
from reelsmith.web.blueprints import register_web
from reelsmith.web.cli import register_cli
from reelsmith.web.common import DOWNLOADS
from reelsmith.web.services import PipelineServices
from reelsmith.web.uploads import remove_uploads

log = logging.getLogger("reelsmith")

ENV_FILE = Path(__file__).resolve().parent / ".env"  # settings for make run, app.py and flask

WAITRESS_THREADS = 8  # request threads; the queue's workers are separate


def create_app(test_config: dict | None = None) -> Flask:
    """App factory. ``test_config`` may hold ``SETTINGS`` (a Settings), ``RUNNER``
    (replaces the video pipeline), ``START_WORKERS`` (default True, except
    under the ``flask`` command, where they start on the first request) and
    ``BIND_HOST`` (the address served, an allowed Host besides loopback)."""
    app = Flask(__name__, instance_relative_config=True)
    test_config = test_config or {}
    under_flask_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    if "SETTINGS" not in test_config and under_flask_cli:
        load_env_file()  # `flask --app /path/app.py` run from another folder
    settings: Settings = test_config.get("SETTINGS") or Settings.from_env()
    app.config.update(
        MAX_CONTENT_LENGTH=int(settings.max_upload_mb * 1024 * 1024),
        SETTINGS=settings,
    )
    app.json.sort_keys = False  # keep the documented field order
    app.config.update({k: v for k, v in test_config.items() if k.isupper()})

    videos_dir = settings.data_dir / "videos"
    videos_dir.mkdir(parents=True, exist_ok=True)
    remove_partial_outputs(videos_dir)  # left by a crash; their tasks run again
    storage = storage_mod.from_settings(settings)  # outputs and uploads (DATA_DIR by default)
    runner = test_config.get("RUNNER") or _pipeline_runner(settings, videos_dir)
    if storage.local_path("videos") != videos_dir.resolve():  # outputs live elsewhere
        from reelsmith.tasks.distributed import shared_runner

        runner = shared_runner(runner, storage, settings.data_dir / "uploads", videos_dir)
    if settings.redis_url:  # the task engine: this process only enqueues (distributed.py)
        from reelsmith.tasks.distributed import distributed_queue

        tasks = distributed_queue(settings, storage, runner)
        store = tasks.store
    else:
        store = TaskStore(settings.data_dir / "tasks.sqlite3")
        tasks = TaskQueue(store, runner, workers=settings.workers, maxsize=settings.queue_size)
    app.extensions["reelsmith"] = tasks
    app.extensions["reelsmith_storage"] = storage
    app.extensions["reelsmith_services"] = pipeline_services(settings)
    start_lock = threading.Lock()

    def start_workers() -> None:
        with start_lock:
            if tasks.started:
                return
            tasks.start()
            atexit.register(tasks.shutdown, settings.shutdown_timeout)
            if settings.retention_days > 0:
                _start_janitor(store, storage, settings.retention_days * 86400, tasks)

    if test_config.get("START_WORKERS", not under_flask_cli):
        start_workers()
    elif "START_WORKERS" not in test_config:
        # `flask create` / `flask batch` render in the foreground and must not
        # drain the web queue; `flask run` starts the workers on its first request.
        app.before_request(start_workers)

    tasks.webhooks.allow_private = settings.webhook_allow_private
    register_web(app)
    register_cli(app)
    return app


def load_env_file(path: Path | None = None) -> bool:
    """Set the variables of ``path`` (the ``.env`` next to app.py) that the
    environment does not already set: the environment wins. Skipped, like
    Flask's own loading, when FLASK_SKIP_DOTENV is 1/true/yes. Returns whether
    the file was read."""
    from dotenv import load_dotenv
    from flask.helpers import get_load_dotenv

    path = ENV_FILE if path is None else Path(path)
    if not get_load_dotenv() or not path.is_file():
        return False
    load_dotenv(path, override=False, encoding="utf-8")
    return True


def remove_partial_outputs(videos_dir: Path) -> None:
    """Delete temporary files a crash left behind (``.<id>.partial.*``, work folders)."""
    import shutil

    for path in videos_dir.glob(".*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def expire_outputs(store: TaskStore, videos_dir, max_age_seconds: float) -> int:
    """Remove the files of tasks that finished more than ``max_age_seconds`` ago;
    the tasks stay, marked expired, with an event saying why. ``videos_dir``
    is the local videos folder or a storage (storage.py)."""
    storage = (
        storage_mod.LocalStorage(Path(videos_dir).parent)
        if isinstance(videos_dir, (str, Path))
        else videos_dir
    )
    expired = 0
    for task in store.finished_before(time.time() - max_age_seconds):
        for suffix, _ in DOWNLOADS.values():
            storage.delete(storage_mod.output_name(task.id, suffix))
        store.record(
            task.id,
            f"outputs removed after the retention period ({max_age_seconds / 86400:g} days)",
            expired_at=time.time(),
        )
        expired += 1
    cutoff = time.time() - max_age_seconds  # uploads no task will use (e.g. after a crash)
    for name in storage.modified_before("uploads", cutoff):
        storage.delete(name)
    return expired


def _start_janitor(store, videos_dir, max_age_seconds, tasks: TaskQueue) -> None:
    def loop():
        while True:
            try:
                expire_outputs(store, videos_dir, max_age_seconds)
            except Exception:
                log.exception("retention cleanup failed")
            if tasks.wait_until_stopping(3600):
                return

    threading.Thread(target=loop, name="retention", daemon=True).start()


def _pipeline_runner(settings: Settings, videos_dir: Path):
    pipeline = None

    def run(task: Task, report) -> dict:
        nonlocal pipeline
        if pipeline is None:  # built on first use: start-up stays instant
            from pipeline import Pipeline

            pipeline = Pipeline(settings)
        try:
            result = pipeline.run(task.request, videos_dir / f"{task.id}.mp4", report)
        except TaskInterrupted:
            raise  # it runs again after a restart: keep its uploads
        except Exception:
            remove_uploads(settings.data_dir / "uploads", task.request)
            raise
        remove_uploads(settings.data_dir / "uploads", task.request)
        return result

    return run


def pipeline_services(settings: Settings) -> PipelineServices:
    """What the web layer, the CLI and the MCP server use of the pipeline; each
    stage is imported on first use, so start-up stays instant."""

    def pipeline(music: Path | None):
        from pipeline import Pipeline

        return Pipeline(settings.with_(music_path=Path(music)) if music else settings)

    def writer_status() -> dict:
        from content_generator import ContentGenerator

        return ContentGenerator(settings=settings).writer_status()

    def render_preview(title, sentence, style, size) -> bytes:
        from video_creator import render_preview

        return render_preview(title, sentence, style, size)

    return PipelineServices(
        writer_status=writer_status,
        render_preview=render_preview,
        run=lambda request, out, report, music=None: pipeline(music).run(request, out, report),
        run_batch=lambda requests, out_dir, workers, report, music=None: pipeline(music).run_batch(
            requests, out_dir, max_workers=workers, report=report
        ),
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Reelsmith web app with waitress.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="bind a non-loopback address even without API_TOKEN",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=ENV_FILE,
        help="settings to read; the environment wins (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from waitress import serve

    if load_env_file(args.env_file):
        log.info("settings from %s (the environment wins over it)", args.env_file)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        parser.error(f"bad setting {exc}")
    if not _is_loopback(args.host) and not settings.api_token and not args.allow_remote:
        parser.error(
            f"refusing to serve on {args.host} without API_TOKEN: anyone who can reach "
            "it could use it. Set API_TOKEN, or pass --allow-remote if you mean it."
        )
    app = create_app({"SETTINGS": settings, "BIND_HOST": args.host})
    log.info("Reelsmith on http://%s:%d", args.host, args.port)
    if args.host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        log.warning(
            "bound to every address, but only loopback Host names are served: "
            "list the names clients use in ALLOWED_HOSTS"
        )
    # SIGTERM ends the server like Ctrl-C does; the queue then stops gracefully.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(app, host=args.host, port=args.port, threads=WAITRESS_THREADS)
    except KeyboardInterrupt:
        pass
    finally:
        log.info(
            "shutting down: waiting up to %gs for the running task",
            app.config["SETTINGS"].shutdown_timeout,
        )
        app.extensions["reelsmith"].shutdown(app.config["SETTINGS"].shutdown_timeout)


if __name__ == "__main__":
    main()
