"""Browser fixtures: Debian's Chromium driven by Playwright, and the real app
served on 127.0.0.1. Test modules that use them set ``pytestmark = needs_chromium``."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from app import create_app
from reelsmith.core.settings import RenderSettings, Settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
    "(.ci/run does) or set CHROMIUM_PATH",
)


@pytest.fixture
def server(tmp_path):
    """The real app (real pipeline, small render) served by waitress on 127.0.0.1."""
    from tests.helpers.live import serve

    settings = Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "instance" / "cache",
        render=RenderSettings(width=360, height=640, preset="veryfast"),
    )
    with serve(create_app({"SETTINGS": settings}), shutdown_timeout=30) as url:
        yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="reelsmith-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 420, "height": 900},
        )
        page = context.new_page()
        yield page
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def shots():
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="reelsmith-screens-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder
