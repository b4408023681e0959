"""Command-line entry points, registered on the app by ``create_app``:

flask --app app create "topic" --out video.mp4
flask --app app batch topics.txt --out videos/
flask --app app revise <task id> scenes.json   # a done video with edited scenes
flask --app app mcp            # an MCP server over stdio (mcp_server.py)
flask --app app connect youtube / publish <task id> --to youtube   (cli_publish.py)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from flask import Flask
from tqdm import tqdm

from reelsmith.core.exceptions import BadRequest, ReelsmithError
from reelsmith.music import music_choices
from reelsmith.request import CreateRequest
from reelsmith.web.cli_publish import register_publish_cli

# Fields the commands take otherwise, or not at all: TOPIC is an argument,
# --script a file, and a foreground render has no webhook to call.
NOT_OPTIONS = (
    "topic",
    "script",
    "webhook_url",
    "review",  # the API's, with approve
    "revision_of",  # set by revise
    "lineage",
    "publish",  # the queue's, once done; here: `flask publish` after create
)


def request_options(settings) -> list:
    """One click option per request field, derived from ``CreateRequest``:
    its type, range or choices, default and help."""
    options = []
    uploads = CreateRequest.upload_fields()
    for name, schema in CreateRequest.field_schemas(settings).items():
        if name in NOT_OPTIONS:
            continue
        flag, default = f"--{name.replace('_', '-')}", schema.get("default")
        extra = {"default": default, "show_default": default is not None}
        if name in uploads:  # a value or a file's path (``file_or_value``)
            extra["metavar"] = "|".join(schema["enum"][:2]) + "|MOOD|TRACK|FILE"
            extra["help"] = f"{schema['description']}; or a file's path"
        elif schema.get("type") == "boolean":
            extra["is_flag"] = True
        elif "enum" in schema:
            extra["type"] = click.Choice(schema["enum"])
        elif schema.get("type") == "integer":
            extra["type"] = click.IntRange(schema["minimum"], schema["maximum"])
        elif schema.get("type") == "number":
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            open_low = "exclusiveMinimum" in schema
            extra["type"] = click.FloatRange(low, schema["maximum"], min_open=open_low)
        extra.setdefault("help", schema.get("description"))
        options.append(click.option(flag, name, **extra))
    return options


def file_or_value(value: str | None) -> tuple[str | None, Path | None]:
    """``--music``: one of the field's values (checked with the request), or
    an existing file's path, used as ``MUSIC_PATH`` is (the value is then auto)."""
    if value and value.strip().lower() not in music_choices() and Path(value).is_file():
        return "auto", Path(value)
    return value, None


def register_cli(app: Flask) -> None:
    """Add the ``create``, ``batch``, ``revise``, ``worker`` and ``mcp`` commands to ``app.cli``."""

    def services():
        return app.extensions["reelsmith_services"]

    def video_options(command):
        """The options every command that makes videos shares: the request's
        fields (voice, speed, language, shape, captions, visuals...) and music."""
        options = request_options(app.config["SETTINGS"])
        for option in reversed(options):
            command = option(command)
        return command

    def request_for(topic, script=None, files=(), **options) -> CreateRequest:
        """A checked request, as the API would make it; a bad value says which option."""
        data = {"topic": topic, "script": script, **options}
        scenes = data.get("scenes")
        if isinstance(scenes, str) and not scenes.lstrip().startswith("["):
            try:  # --scenes names a JSON file (a storyboard's scenes), or is the JSON itself
                data["scenes"] = Path(scenes).read_text(encoding="utf-8")
            except OSError as exc:
                raise click.BadParameter(f"cannot read {scenes}: {exc}", param_hint="--scenes")
        try:
            return CreateRequest.parse(data, app.config["SETTINGS"], files=files)
        except BadRequest as exc:
            field = (exc.field or "topic").split(".")[0]
            hint = "TOPIC" if field == "topic" else f"--{field.replace('_', '-')}"
            raise click.BadParameter(exc.message, param_hint=hint) from None

    @app.cli.command("create")
    @click.argument("topic")
    @click.option(
        "--script",
        "script_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Your own script (one caption per sentence); skips the LLM.",
    )
    @click.option(
        "--out", "out", type=click.Path(dir_okay=False), default="video.mp4", show_default=True
    )
    @click.option(
        "--narration",
        type=click.Path(exists=True, dir_okay=False),
        help="Your own recording of the script (wav, mp3, m4a, ogg): no voice speaks; "
        "give its words with --script.",
    )
    @video_options
    def create_command(topic, script_file, out, music, narration, **options):
        """Render one video in the foreground."""
        script = Path(script_file).read_text(encoding="utf-8") if script_file else None
        options["music"], music = file_or_value(music)
        req = request_for(topic, script, files={"narration"} if narration else (), **options)
        stored = _store_narration(narration) if narration else None
        if stored is not None:
            req = req.model_copy(update={"narration": stored.name})
        with Progress() as report:
            try:
                result = services().run(req, Path(out), report, music)
                report("done", 1.0)
            except ReelsmithError as exc:
                report.close()
                raise click.ClickException(f"{exc.stage}: {exc.message}") from exc
            finally:
                if stored is not None:
                    stored.unlink(missing_ok=True)
        music = result.get("music") or {}
        click.echo(
            f"{out}: {result['duration']:.1f} s, voice {result['voice_engine']}, "
            f"script {result['script_source']}, music {music.get('track') or music.get('source')}"
        )

    def _store_narration(path: str) -> Path:
        """A copy of ``--narration`` in the uploads folder, as the API keeps one."""
        import shutil
        import uuid

        from reelsmith.core.storage import Files
        from reelsmith.request import NARRATION_SUFFIXES

        suffix = Path(path).suffix.lower()
        if suffix not in NARRATION_SUFFIXES:
            raise click.BadParameter(
                f"{suffix or 'no suffix'} files are not accepted "
                f"(use {', '.join(sorted(NARRATION_SUFFIXES))})",
                param_hint="--narration",
            )
        folder = Files.uploads_of(app.config["SETTINGS"].storage.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"{uuid.uuid4().hex}{suffix}"
        shutil.copyfile(path, stored)
        return stored

    @app.cli.command("worker")
    @click.option(
        "--threads",
        type=click.IntRange(1, 64),
        default=None,
        help="render slots (default: WORKERS)",
    )
    def worker_command(threads):
        """Render tasks from the shared queue (REDIS_URL); run one per machine."""
        import logging

        from reelsmith.core.exceptions import WorkerError
        from reelsmith.tasks.worker import run_worker

        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        try:
            run_worker(app, threads)
        except WorkerError as exc:
            raise click.ClickException(str(exc)) from None

    @app.cli.command("batch")
    @click.argument("topics_file", type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "--out", "out_dir", type=click.Path(file_okay=False), default="videos", show_default=True
    )
    @click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True)
    @video_options
    def batch_command(topics_file, out_dir, workers, music, **options):
        """Render one video per line of TOPICS_FILE (blank lines and # comments skipped)."""
        lines = Path(topics_file).read_text(encoding="utf-8").splitlines()
        topics = [t.strip() for t in lines if t.strip() and not t.strip().startswith("#")]
        if not topics:
            raise click.ClickException(f"{topics_file} has no topics")
        options["music"], music = file_or_value(music)
        requests = [request_for(t, **options) for t in topics]
        click.echo(f"rendering {len(topics)} videos with {workers} workers into {out_dir}/")
        with Progress() as report:
            results = services().run_batch(requests, Path(out_dir), workers, report, music)
            report("done", 1.0)
        failed = 0
        for i, (topic, result) in enumerate(zip(topics, results), start=1):
            if isinstance(result, ReelsmithError):
                failed += 1
                click.echo(f"{i:03d} FAILED at {result.stage}: {result.message}  ({topic})")
            else:
                click.echo(f"{i:03d}.mp4  {result['duration']:.1f} s  {result['title']}")
        if failed:
            raise click.ClickException(f"{failed} of {len(topics)} videos failed")

    @app.cli.command("revise")
    @click.argument("task_id")
    @click.argument("scenes_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--out", type=click.Path(dir_okay=False), help="Also copy the video here.")
    def revise_command(task_id, scenes_file, out):
        """A new video from a done task with the scenes in SCENES_FILE (JSON: a
        list of scenes, or {"scenes": [...]}), as POST /api/task/<id>/revise
        makes it, rendered here: only the scenes that changed are encoded."""
        import json
        import shutil

        try:
            scenes = json.loads(Path(scenes_file).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="SCENES_FILE") from None
        if isinstance(scenes, dict) and "scenes" in scenes:
            scenes = scenes["scenes"]
        token = app.config["SETTINGS"].server.api_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = app.test_client()
        with app.test_request_context("/api/tasks", headers=headers):
            app.preprocess_request()  # starts the queue's workers in this process
        queue = app.extensions["reelsmith"]
        try:
            reply = client.post(
                f"/api/task/{task_id}/revise", json={"scenes": scenes}, headers=headers
            )
            body = reply.get_json(silent=True) or {}
            if reply.status_code != 202:
                field = f"{body['field']}: " if body.get("field") else ""
                raise click.ClickException(f"{field}{body.get('error', reply.status_code)}")
            new_id = body["task_id"]
            with Progress() as report:
                while True:
                    task = client.get(body["status_url"], headers=headers).get_json()
                    if task["status"] in ("done", "failed", "canceled"):
                        break
                    report(task.get("stage") or task["status"], task.get("progress") or 0.0)
                    time.sleep(0.2)
                report(task["status"], 1.0)
        finally:
            queue.shutdown(app.config["SETTINGS"].tasks.shutdown_timeout)
        if task["status"] != "done":
            raise click.ClickException(f"{new_id} {task['status']}: {task.get('error')}")
        result = task["result"]
        if out:
            video = app.extensions["reelsmith_files"].output_path(new_id)
            shutil.copyfile(video, out)
        segments = result.get("segments") or {}
        click.echo(
            f"{new_id}: revision of {task_id}, {result['duration']:.1f} s; scenes encoded "
            f"{segments.get('encoded')}, reused {segments.get('reused')}"
            + (f"; video in {out}" if out else "")
        )

    @app.cli.command("mcp")
    def mcp_command():
        """Serve the Model Context Protocol over stdio (for AI agents and automation tools)."""
        from reelsmith.web import (
            mcp_server,
        )  # imported here: the mcp SDK loads only for this command

        mcp_server.run(app)

    register_publish_cli(app)  # connect, publish (cli_publish.py)


class Progress:
    """``report(stage, fraction)`` for ``create`` and ``batch``, on stderr: a
    tqdm bar with the stage, percent and time left on a terminal; plain lines
    ("script 2%", "render 40% · about 12 s left") when stderr is not a
    terminal, one whenever the stage changes or ``STEP`` more percent are done.
    The time left is the web's: elapsed × (1 − done) / done, once 5 % is done."""

    STEP = 10  # percent between plain lines
    # The bar's size on a terminal that reports none (0 x 0: a pty made by
    # `script`), where tqdm would draw nothing at all.
    COLUMNS, ROWS = 80, 24

    def __init__(self, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self.bar = None
        self.last = (None, -1)  # (stage, percent) last shown

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def eta(self, fraction: float) -> str:
        if fraction < 0.05 or fraction >= 1:
            return ""
        left = (time.monotonic() - self.started) * (1 - fraction) / fraction
        return (
            f"about {max(1, round(left))} s left"
            if left < 60
            else f"about {left / 60:.0f} min left"
        )

    def __call__(self, stage: str, fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        shown_stage, shown_percent = self.last
        if self.tty:
            if (stage, percent) == self.last:
                return  # a frame that changed nothing on screen
            if self.bar is None:
                columns, rows = _terminal_size(self.stream)
                fixed = not (columns and rows)
                self.bar = _Bar(
                    total=100,
                    file=self.stream,
                    leave=True,
                    dynamic_ncols=not fixed,
                    ncols=(columns or self.COLUMNS) if fixed else None,
                    nrows=(rows or self.ROWS) if fixed else None,
                    bar_format="{desc:<12} {percentage:3.0f}%|{bar}| {eta_text}",
                )
            self.bar.eta_text = self.eta(fraction)
            self.bar.set_description_str(stage, refresh=False)
            self.bar.n = percent
            self.bar.refresh()
        else:
            if stage == shown_stage and percent < shown_percent + self.STEP:
                return
            eta = self.eta(fraction)
            print(
                f"{stage} {percent}%" + (f" · {eta}" if eta else ""), file=self.stream, flush=True
            )
        self.last = (stage, percent)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _terminal_size(stream) -> tuple[int, int]:
    """The terminal's columns and rows (0 when it reports none, or is none)."""
    try:
        return tuple(os.get_terminal_size(stream.fileno()))
    except (AttributeError, OSError, ValueError):
        return 0, 0


class _Bar(tqdm):
    """tqdm with our own time left (``{eta_text}``) in its bar format."""

    eta_text = ""

    @property
    def format_dict(self):
        return {**super().format_dict, "eta_text": self.eta_text}
