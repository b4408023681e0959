"""Command-line entry points, registered on the app by ``create_app``:

    flask --app app create "topic" --out video.mp4
    flask --app app batch topics.txt --out videos/
    flask --app app mcp            # an MCP server over stdio (mcp_server.py)
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from captions import PRESETS, CaptionStyleError, parse_style
from config import ASPECTS
from exceptions import ReelsmithError
from routes import LENGTH_RANGE, SPEED_RANGE, VOICES
from speech import check_voice
from backgrounds import TRANSITIONS
from visuals import SOURCES, check_visuals
from tasks import TaskRequest


def register_cli(app: Flask) -> None:
    """Add the ``create``, ``batch`` and ``mcp`` commands to ``app.cli``."""

    def pipeline(music: str | None = None):
        from pipeline import Pipeline

        settings = app.config["SETTINGS"]
        return Pipeline(settings.with_(music_path=Path(music)) if music else settings)

    music_option = click.option(
        "--music", type=click.Path(exists=True, dir_okay=False),
        help="A music bed, ducked under the voice (default: MUSIC_PATH, if set).")

    caption_style_option = click.option(
        "--caption-style", default="classic", show_default=True, callback=_caption_style,
        help=f"A preset ({', '.join(PRESETS)}) or a JSON style object, "
             "e.g. '{\"preset\": \"pop\", \"highlight_color\": \"#FF3B30\"}'.")

    def video_options(command):
        """The options every command that makes videos shares: voice, speed,
        language, shape, captions, visuals, transition and music."""
        for option in reversed([
            click.option("--voice", default="auto", show_default=True,
                         help="auto, an engine (" + ", ".join(VOICES[1:]) + ") or a voice id "
                              "from /api/voices, e.g. piper:en_US-joe-medium."),
            click.option("--speed", type=click.FloatRange(*SPEED_RANGE), default=1.0,
                         show_default=True, help="Narration speed."),
            click.option("--language", default="en", show_default=True),
            click.option("--aspect", type=click.Choice(list(ASPECTS)), default="9:16",
                         show_default=True),
            caption_style_option,
            click.option("--visuals", default="auto", show_default=True,
                         help="auto or a visual source: " + ", ".join(SOURCES) + "."),
            click.option("--transition", type=click.Choice(list(TRANSITIONS)), default="cut",
                         show_default=True, help="Between sentences."),
            music_option,
        ]):
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
    @click.option("--script", "script_file", type=click.Path(exists=True, dir_okay=False),
                  help="Your own script (one caption per sentence); skips the LLM.")
    @click.option("--length", type=click.IntRange(*LENGTH_RANGE), default=30, show_default=True)
    @click.option("--out", "out", type=click.Path(dir_okay=False), default="video.mp4",
                  show_default=True)
    @video_options
    def create_command(topic, script_file, out, music, **options):
        """Render one video in the foreground."""
        script = Path(script_file).read_text(encoding="utf-8") if script_file else None
        req = request_for(topic, script, **options)
        with click.progressbar(length=100, label="rendering") as bar:
            def report(stage, progress):
                bar.label = stage
                bar.update(int(progress * 100) - bar.pos)

            try:
                result = pipeline(music).run(req, Path(out), report)
            except ReelsmithError as exc:
                raise click.ClickException(f"{exc.stage}: {exc.message}") from exc
        click.echo(f"{out}: {result['duration']:.1f} s, voice {result['voice_engine']}, "
                   f"script {result['script_source']}")

    @app.cli.command("batch")
    @click.argument("topics_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), default="videos",
                  show_default=True)
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
        results = pipeline(music).run_batch(requests, Path(out_dir), max_workers=workers)
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
        import mcp_server  # imported here: the mcp SDK loads only for this command

        mcp_server.run(app)


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
