"""Fixtures of the publishing tests: the TLS fakes, a tiny real MP4 and a
thumbnail, and a Publisher pointed at the fakes (no Flask)."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from PIL import Image

from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files
from tests.helpers.fake_platforms import TIKTOK_TOKEN, TLS, FakeTikTok, FakeYouTube
from tests.helpers.media import make_clip

RESULT = {
    "title": "Three Hearts",
    "description": "Why octopuses need three hearts.",
    "hashtags": ["#octopus", "ocean"],
}


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A real H.264 MP4 of about 340 KB: two 256 KiB chunks."""
    folder = tmp_path_factory.mktemp("clip")
    make_clip(folder / "clip.mp4", seconds=3, size="240x426")
    Image.new("RGB", (180, 320), (200, 40, 40)).save(folder / "thumb.jpg")
    return folder / "clip.mp4", folder / "thumb.jpg"


@pytest.fixture
def tls(tmp_path):
    return TLS(tmp_path)


@pytest.fixture
def youtube(tls, tmp_path):
    with FakeYouTube(tls, tmp_path) as fake:
        yield fake


@pytest.fixture
def tiktok(tls, tmp_path):
    with FakeTikTok(tls, tmp_path) as fake:
        yield fake


def publish_settings(tmp_path, tls, youtube=None, tiktok=None, **changes) -> Settings:
    values = {
        "data_dir": tmp_path / "data",
        "cache_dir": tmp_path / "cache",
        "ssl_cert_file": tls.ca_file,
        "publish_chunk_mb": 0.25,
        "publish_backoff": 0.5,
        "retention_days": 0,
    }
    if youtube is not None:
        values.update(
            youtube_api_url=youtube.url, youtube_credentials=json.dumps(youtube.credentials())
        )
    if tiktok is not None:
        values.update(tiktok_api_url=tiktok.url, tiktok_access_token=TIKTOK_TOKEN)
    return Settings.build(**{**values, **changes})


def finished_task(settings: Settings, clip) -> tuple[Files, str]:
    """Files with a finished task's video and thumbnail in the storage."""
    files = Files.from_settings(settings)
    files.prepare()
    task_id = uuid.uuid4().hex
    shutil.copy(clip[0], files.output_path(task_id))
    shutil.copy(clip[1], files.output_path(task_id, ".jpg"))
    return files, task_id
