"""The publishing commands, registered by ``register_cli``:

flask --app app connect youtube          # sign in once (tokens in DATA_DIR, mode 0600)
flask --app app connect tiktok
flask --app app publish <task id> --to youtube --privacy private --not-for-kids
"""

from __future__ import annotations

import threading

import click
from flask import Flask

from reelsmith.core.exceptions import AlreadyPublished, BadRequest, ConfigError, PublishError
from reelsmith.publish.oauth import CONNECT
from reelsmith.publish.request import PLATFORMS, PRIVACY, PublishRequest
from reelsmith.tasks.model import TaskStatus


def register_publish_cli(app: Flask) -> None:
    def publisher():
        return app.extensions["reelsmith_publisher"]

    @app.cli.command("connect")
    @click.argument("platform", type=click.Choice(PLATFORMS))
    @click.option(
        "--no-browser", is_flag=True, help="Print the sign-in link instead of opening it."
    )
    @click.option(
        "--port", type=int, default=0, help="The loopback port of the redirect (0: any free one)."
    )
    def connect(platform, no_browser, port):
        """Sign in to PLATFORM once; later publications use the stored token."""
        try:
            name = CONNECT[platform](
                app.config["SETTINGS"],
                publisher().accounts,
                open_browser=not no_browser,
                port=port,
                say=click.echo,
            )
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        except PublishError as exc:
            raise click.ClickException(exc.message) from None
        who = f" as {name}" if name else " (the account's name could not be read)"
        click.echo(f"{platform} connected{who}.")

    @app.cli.command("publish")
    @click.argument("task_id")
    @click.option("--to", "platform", type=click.Choice(PLATFORMS), required=True)
    @click.option("--privacy", type=click.Choice(PRIVACY), default="private", show_default=True)
    @click.option(
        "--for-kids/--not-for-kids", "made_for_kids", default=None, help="Required for YouTube."
    )
    @click.option("--title", help="Default: the video's title.")
    @click.option("--description", help="Default: the video's description and hashtags.")
    @click.option("--tag", "tags", multiple=True, help="A tag (repeat it); default: the hashtags.")
    @click.option("--publish-at", help="YouTube: when it goes public (ISO 8601 with a time zone).")
    @click.option(
        "--direct", is_flag=True, help="TikTok: post directly instead of a draft in the inbox."
    )
    @click.option("--force", is_flag=True, help="Publish again to an account that has it.")
    def publish(task_id, **options):
        """Upload a finished video (TASK_ID) to YouTube or TikTok, in the foreground."""
        task = app.extensions["reelsmith"].store.get(task_id)
        if task is None or task.status != TaskStatus.DONE:
            state = task.status.value if task else "unknown"
            raise click.BadParameter(f"task {task_id} is {state}, not done", param_hint="TASK_ID")
        options["tags"] = list(options["tags"]) or None
        data = {k: v for k, v in options.items() if v is not None}
        try:
            req = PublishRequest.parse(data)
            pub = publisher().submit(task.id, task.result or {}, req, enqueue=False)
        except BadRequest as exc:
            name = (
                "--not-for-kids/--for-kids"
                if exc.field == "made_for_kids"
                else f"--{(exc.field or '').replace('_', '-')}"
            )
            raise click.BadParameter(exc.message, param_hint=name) from None
        except AlreadyPublished as exc:
            raise click.ClickException(f"{exc.message} (--force)") from None
        except PublishError as exc:
            raise click.ClickException(exc.message) from None
        done = threading.Event()
        result = {}

        def upload():
            result["pub"] = publisher().run(pub.id)
            done.set()

        threading.Thread(target=upload, daemon=True).start()
        with click.progressbar(length=100, label=f"uploading to {req.platform}", file=None) as bar:
            shown = 0
            while not done.wait(0.5):
                now = int(publisher().store.get(pub.id).progress * 100)
                bar.update(now - shown)
                shown = now
            bar.update(100 - shown)
        final = result["pub"]
        for note in final.notes:
            click.echo(f"note: {note}")
        if final.status != "published":
            raise click.ClickException(f"{req.platform}: {final.error}")
        click.echo(f"published: {final.url or final.remote_id} (publication {final.id})")
