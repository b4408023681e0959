"""Command-line entry points, registered on the app by ``create_app``:

flask --app app create "topic" --out video.mp4
flask --app app batch topics.txt --out videos/
flask --app app mcp            # an MCP server over stdio (mcp_server.py)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask
from tqdm import tqdm

from reelsmith.captions.overlay import PRESETS, CaptionStyleError, parse_style
from reelsmith.core.exceptions import ReelsmithError
from reelsmith.core.settings import ASPECTS
from reelsmith.tasks.model import TaskRequest
from reelsmith.visuals import SOURCES, check_visuals
from reelsmith.visuals.backgrounds import MAX_TRANSITION_SECONDS, TRANSITIONS
from reelsmith.voice.synthesizer import check_voice
from reelsmith.web.routes import LENGTH_RANGE, SPEED_RANGE, VOICES


def register_cli(app: Flask) -> None:
    """Add the ``create``, ``batch`` and ``mcp`` commands to ``app.cli``."""

    def pipeline(music: str | None = None):
        from pipeline import Pipeline

        settings = app.config["SETTINGS"]
        return Pipeline(settings.with_(music_path=Path(music)) if music else settings)

    music_option = click.option(
        "--music",
        type=click.Path(exists=True, dir_okay=False),
        help="A music bed, ducked under the voice (default: MUSIC_PATH, if set).",
    )

    caption_style_option = click.option(
        "--caption-style",
        default="classic",
        show_default=True,
        callback=_caption_style,
        help=f"A preset ({', '.join(PRESETS)}) or a JSON style object, "
        'e.g. \'{"preset": "pop", "highlight_color": "#FF3B30"}\'.',
    )

    def video_options(command):
        """The options every command that makes videos shares: voice, speed,
        language, shape, captions, visuals, transition (and its length) and music."""
        for option in reversed(
            [
                click.option(
                    "--voice",
                    default="auto",
                    show_default=True,
                    help="auto, an engine (" + ", ".join(VOICES[1:]) + ") or a voice id "
                    "from /api/voices, e.g. piper:en_US-joe-medium.",
                ),
                click.option(
                    "--speed",
                    type=click.FloatRange(*SPEED_RANGE),
                    default=1.0,
                    show_default=True,
                    help="Narration speed.",
                ),
                click.option("--language", default="en", show_default=True),
                click.option(
                    "--aspect", type=click.Choice(list(ASPECTS)), default="9:16", show_default=True
                ),
                caption_style_option,
                click.option(
                    "--visuals",
                    default="auto",
                    show_default=True,
                    help="auto or a visual source: " + ", ".join(SOURCES) + ".",
                ),
                click.option(
                    "--transition",
                    type=click.Choice(list(TRANSITIONS)),
                    default="cut",
                    show_default=True,
                    help="Between sentences.",
                ),
                click.option(
                    "--transition-seconds",
                    type=click.FloatRange(0, MAX_TRANSITION_SECONDS, min_open=True),
                    default=0.5,
                    show_default=True,
                    help="How long each transition lasts.",
                ),
                music_option,
            ]
        ):
            command = option(command)
        return command

    def request_for(topic, script=None, *, music=None, **options) -> TaskRequest:
        """A checked request, as the API would make it; a bad value says which option."""
        settings = app.config["SETTINGS"]
        try:
            options["voice"] = check_voice(options["voice"], options["language"], settings)
            options["visuals"] = check_visuals(options["visuals"], settings)
        except ReelsmithError as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
        return TaskRequest(topic=topic, script=script, **options)

    @app.cli.command("create")
    @click.argument("topic")
    @click.option(
        "--script",
        "script_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Your own script (one caption per sentence); skips the LLM.",
    )
    @click.option("--length", type=click.IntRange(*LENGTH_RANGE), default=30, show_default=True)
    @click.option(
        "--out", "out", type=click.Path(dir_okay=False), default="video.mp4", show_default=True
    )
    @video_options
    def create_command(topic, script_file, out, music, **options):
        """Render one video in the foreground."""
        script = Path(script_file).read_text(encoding="utf-8") if script_file else None
        req = request_for(topic, script, **options)
        with Progress() as report:
            try:
                result = pipeline(music).run(req, Path(out), report)
                report("done", 1.0)
            except ReelsmithError as exc:
                report.close()
                raise click.ClickException(f"{exc.stage}: {exc.message}") from exc
        click.echo(
            f"{out}: {result['duration']:.1f} s, voice {result['voice_engine']}, "
            f"script {result['script_source']}"
        )

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
    @click.option("--length", type=click.IntRange(*LENGTH_RANGE), default=30, show_default=True)
    @click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True)
    @video_options
    def batch_command(topics_file, out_dir, workers, music, **options):
        """Render one video per line of TOPICS_FILE (blank lines and # comments skipped)."""
        lines = Path(topics_file).read_text(encoding="utf-8").splitlines()
        topics = [t.strip() for t in lines if t.strip() and not t.strip().startswith("#")]
        if not topics:
            raise click.ClickException(f"{topics_file} has no topics")
        requests = [request_for(t, **options) for t in topics]
        click.echo(f"rendering {len(topics)} videos with {workers} workers into {out_dir}/")
        with Progress() as report:
            results = pipeline(music).run_batch(
                requests, Path(out_dir), max_workers=workers, report=report
            )
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

    @app.cli.command("mcp")
    def mcp_command():
        """Serve the Model Context Protocol over stdio (for AI agents and automation tools)."""
        from reelsmith.web import (
            mcp_server,
        )  # imported here: the mcp SDK loads only for this command

        mcp_server.run(app)


class Progress:
    """``report(stage, fraction)`` for ``create`` and ``batch``, on stderr: a
    tqdm bar with the stage, percent and time left on a terminal; plain lines
    ("script 2%", "render 40% · about 12 s left") when stderr is not a
    terminal, one whenever the stage changes or ``STEP`` more percent are done.
    The time left is the web's: elapsed × (1 − done) / done, once 5 % is done."""

    STEP = 10  # percent between plain lines

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
                self.bar = _Bar(
                    total=100,
                    file=self.stream,
                    leave=True,
                    dynamic_ncols=True,
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


class _Bar(tqdm):
    """tqdm with our own time left (``{eta_text}``) in its bar format."""

    eta_text = ""

    @property
    def format_dict(self):
        return {**super().format_dict, "eta_text": self.eta_text}


def _caption_style(ctx, param, value):
    """``--caption-style``: a preset name or a JSON object, checked like the API's."""
    import json

    if value and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}") from None
    try:
        parse_style(value)
    except CaptionStyleError as exc:
        raise click.BadParameter(exc.message) from None
    return value
