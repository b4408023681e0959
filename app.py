"""The Reelsmith web app: a page, a JSON API and a background task worker.

Run it with ``make run`` (waitress, one process, so the in-process workers are
shared by every request), or ``python app.py --host 127.0.0.1 --port 5000``.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import ipaddress
import logging
import signal
import sys
import threading
from pathlib import Path

from flask import Flask

from reelsmith.core.exceptions import ConfigError
from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files
from reelsmith.publish.runner import Publisher, publish_when_done
from reelsmith.tasks.model import Task
from reelsmith.tasks.queue import TaskQueue
from reelsmith.tasks.retention import start_janitor
from reelsmith.tasks.runner import run_task
from reelsmith.tasks.sqlite_store import SQLiteTaskStore
from reelsmith.web.blueprints import register_web
from reelsmith.web.cli import register_cli
from reelsmith.web.services import PipelineServices

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
    settings: Settings = test_config.get("SETTINGS") or Settings.from_env()
    under_flask_cli = settings.server.under_flask_cli
    if "SETTINGS" not in test_config and under_flask_cli and load_env_file():
        settings = Settings.from_env()  # `flask --app /path/app.py` run from another folder
    app.config.update(
        MAX_CONTENT_LENGTH=int(settings.server.max_upload_mb * 1024 * 1024),
        SETTINGS=settings,
    )
    app.json.sort_keys = False  # keep the documented field order
    app.config.update({k: v for k, v in test_config.items() if k.isupper()})

    files = Files.from_settings(settings)  # every path; outputs in DATA_DIR or STORAGE_URL
    files.prepare()  # the folders, made once; temporary files a crash left, removed
    render = test_config.get("RUNNER") or _pipeline_runner(settings, files)
    runner = functools.partial(run_task, render=render, files=files)
    publisher = Publisher(settings, files)  # uploads to YouTube/TikTok when asked
    runner = publish_when_done(runner, publisher)  # `publish` on create
    if settings.tasks.redis_url:  # the task engine: this process only enqueues (distributed.py)
        from reelsmith.tasks.distributed import distributed_queue

        tasks = distributed_queue(settings, files, runner)
    else:
        tasks = TaskQueue(
            SQLiteTaskStore(files.task_db),
            runner,
            workers=settings.tasks.workers,
            maxsize=settings.tasks.queue_size,
            files=files,
        )
    app.extensions["reelsmith"] = tasks
    app.extensions["reelsmith_files"] = files
    app.extensions["reelsmith_services"] = pipeline_services(settings)
    app.extensions["reelsmith_publisher"] = publisher
    start_lock = threading.Lock()

    def start_workers() -> None:
        with start_lock:
            if tasks.started:
                return
            tasks.start()
            atexit.register(tasks.shutdown, settings.tasks.shutdown_timeout)
            publisher.start()  # resumes unfinished publications
            if settings.storage.retention_days > 0:
                start_janitor(
                    tasks.store,
                    files,
                    settings.storage.retention_days * 86400,
                    tasks.wait_until_stopping,
                )

    if test_config.get("START_WORKERS", not under_flask_cli):
        start_workers()
    elif "START_WORKERS" not in test_config:
        # `flask create` / `flask batch` render in the foreground and must not
        # drain the web queue; `flask run` starts the workers on its first request.
        app.before_request(start_workers)

    tasks.webhooks.allow_private = settings.tasks.private_urls
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


def _pipeline_runner(settings: Settings, files: Files):
    """The render of a task: the video pipeline, built on first use (start-up stays instant)."""
    pipeline = None
    lock = threading.Lock()

    def render(task: Task, report) -> dict:
        nonlocal pipeline
        with lock:
            if pipeline is None:
                from pipeline import Pipeline

                pipeline = Pipeline(settings)
        root = task.request.lineage or task.id  # a revision renders into its line's segments
        return pipeline.run(
            task.request, files.output_path(task.id), report, files.segments_dir(root)
        )

    return render


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
        storyboard=lambda request, folder: pipeline(None).storyboard(request, folder),
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
    if not _is_loopback(args.host) and not settings.server.api_token and not args.allow_remote:
        parser.error(
            f"refusing to serve on {args.host} without API_TOKEN: anyone who can reach "
            "it could use it. Set API_TOKEN, or pass --allow-remote if you mean it."
        )
    app = create_app({"SETTINGS": settings, "BIND_HOST": args.host})
    log.info("Reelsmith on http://%s:%d", args.host, args.port)
    if args.host in ("0.0.0.0", "::") and not settings.server.allowed_hosts:
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
            app.config["SETTINGS"].tasks.shutdown_timeout,
        )
        app.extensions["reelsmith"].shutdown(app.config["SETTINGS"].tasks.shutdown_timeout)


if __name__ == "__main__":
    main()
