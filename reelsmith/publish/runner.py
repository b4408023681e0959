"""The Publisher: adds publications and uploads them, one at a time, on a
background thread; on start it resumes the ones a stop left unfinished."""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from pathlib import Path

from reelsmith.core.exceptions import AlreadyPublished, PublishError
from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files, output_name
from reelsmith.publish.accounts import Accounts
from reelsmith.publish.request import PublishRequest
from reelsmith.publish.store import Publication, PublicationStore
from reelsmith.publish.tiktok import TikTok
from reelsmith.publish.youtube import YouTube

log = logging.getLogger("reelsmith.publish")

PLATFORMS = {"youtube": YouTube, "tiktok": TikTok}  # one line per platform
META_KEYS = ("title", "description", "hashtags")


class Publisher:
    def __init__(self, settings: Settings, files: Files, *, sleep=None, store=None):
        self.files = files
        self.accounts = Accounts(settings)
        extra = {"sleep": sleep} if sleep else {}
        self.platforms = {
            name: kind(settings, self.accounts, **extra) for name, kind in PLATFORMS.items()
        }
        self.store = store or PublicationStore(Path(settings.storage.data_dir) / "publications.db")
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def lookups(self) -> dict:
        return {name: platform.whoami for name, platform in self.platforms.items()}

    def submit(
        self, task_id: str, result: dict, req: PublishRequest, *, enqueue: bool = True
    ) -> Publication:
        """Add a publication of a finished task (``result`` gives the title,
        description and hashtags). AlreadyPublished when this account has it and
        ``force`` is not set; NotConnected when the platform has no token."""
        if self.accounts.source(req.platform) is None:
            self.accounts.youtube_credentials() if req.platform == "youtube" else self.accounts.tiktok_token()
        account, why = self.accounts.who(req.platform, self.platforms[req.platform].whoami)
        notes = (
            [f"could not tell which account is connected ({why}); publishing anyway"] if why else []
        )
        earlier = self.store.already(task_id, req.platform, account)
        if earlier and not req.force:
            raise AlreadyPublished(
                f"this video was published to {req.platform} ({account or 'this account'}) "
                f"already (publication {earlier.id}, {earlier.status}); send force: true to "
                "publish it again",
                earlier.id,
            )
        pub = self.store.add(
            Publication(
                task_id=task_id,
                platform=req.platform,
                request=req.model_dump(mode="json"),
                meta={k: result.get(k) for k in META_KEYS},
                account=account,
                notes=notes,
            )
        )
        if enqueue:
            self._queue.put(pub.id)
        return pub

    def submit_asked(self, task_id: str, result: dict, asked: list[dict]) -> list[Publication]:
        """The publications a create request asked for (``publish``), once its
        video is rendered; one that cannot start is recorded as failed, saying why."""
        added = []
        for item in asked:
            req = PublishRequest.model_validate(item)
            try:
                added.append(self.submit(task_id, result, req))
            except (PublishError, AlreadyPublished) as exc:
                failed = Publication(
                    task_id=task_id,
                    platform=req.platform,
                    request=req.model_dump(mode="json"),
                    meta={k: result.get(k) for k in META_KEYS},
                    status="failed",
                    error=exc.message,
                )
                added.append(self.store.add(failed))
        return added

    def start(self) -> None:
        if self._thread is not None:
            return
        for pub in self.store.unfinished():
            self._queue.put(pub.id)
        self._thread = threading.Thread(target=self._work, name="publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while (pub_id := self._queue.get()) is not None:
            try:
                self.run(pub_id)
            except Exception:  # noqa: BLE001 - one publication must not stop the others
                log.exception("publication %s failed unexpectedly", pub_id)

    def run(self, pub_id: str) -> Publication:
        """Upload one publication now (the worker, and `flask publish` in the foreground)."""
        pub = self.store.get(pub_id)
        if pub is None or pub.status not in ("queued", "uploading"):
            return pub
        self.store.update(pub_id, status="uploading", error=None)

        def save(**changes) -> None:
            self.store.update(pub_id, **changes)

        try:
            with tempfile.TemporaryDirectory(dir=self.files.videos, prefix=".publish-") as tmp:
                video = self._local(pub.task_id, ".mp4", Path(tmp))
                if video is None:
                    raise PublishError(
                        "the video file is gone (removed after the retention period)",
                        platform=pub.platform,
                        reason="no_file",
                    )
                thumbnail = self._local(pub.task_id, ".jpg", Path(tmp))
                done = self.platforms[pub.platform].publish(pub, video, thumbnail, save)
        except PublishError as exc:
            log.info("publication %s to %s failed: %s", pub_id, pub.platform, exc.message)
            return self.store.update(pub_id, status="failed", error=exc.message)
        except Exception as exc:  # noqa: BLE001 - said plainly, not as a stack trace
            log.exception("publication %s failed", pub_id)
            return self.store.update(
                pub_id, status="failed", error=f"internal error: {type(exc).__name__}"
            )
        notes = self.store.get(pub_id).notes + done["notes"]
        return self.store.update(
            pub_id,
            status="published",
            progress=1.0,
            url=done["url"],
            remote_id=done["remote_id"],
            notes=notes,
        )

    def _local(self, task_id: str, suffix: str, tmp: Path) -> Path | None:
        """A local path of the task's output (fetched when outputs live in S3)."""
        storage = self.files.storage
        name = output_name(task_id, suffix)
        path = storage.local_path(name)
        if path is not None:
            return path if path.is_file() else None
        return storage.fetch(name, tmp / Path(name).name) if storage.exists(name) else None

    def publications(self, task_id: str) -> list[dict]:
        return [pub.public() for pub in self.store.for_task(task_id)]


def publish_when_done(runner, publisher: Publisher):
    """A task runner that, once the video is rendered and stored, adds the
    publications its request asked for (CreateRequest's ``publish``)."""

    def run(task, report) -> dict:
        result = runner(task, report)
        asked = getattr(task.request, "publish", None)
        storyboard = task.request.review and isinstance(result, dict) and "storyboard" in result
        if asked and not storyboard:  # a review stops before the render: not yet
            publisher.submit_asked(task.id, result or {}, asked)
        return result

    return run
