"""The page's "Publish" panel on a finished video, in Chromium: axe finds no
serious violation in it, a missing made-for-kids answer is said, and a
publication shows its status and link. Against the HTTPS fake of YouTube."""

from __future__ import annotations

import shutil

import pytest

from app import create_app
from reelsmith.core.storage import Files
from tests.helpers import poll, publishing
from tests.helpers.browser import needs_chromium
from tests.helpers.publishing import RESULT, publish_settings
from tests.test_page_a11y import EXTRA_RULES, violations

pytestmark = needs_chromium
clip, tls, youtube = publishing.clip, publishing.tls, publishing.youtube


@pytest.fixture
def site(tmp_path, tls, clip, youtube):
    from tests.helpers.live import serve

    settings = publish_settings(
        tmp_path, tls, youtube=youtube, discover_local_llm=False, openai_api_key=""
    )
    files = Files.from_settings(settings)

    def render(task, report):
        shutil.copy(clip[0], files.output_path(task.id))
        shutil.copy(clip[1], files.output_path(task.id, ".jpg"))
        return {**RESULT, "duration": 3.0, "voice_engine": "espeak", "script_source": "yours"}

    app = create_app({"SETTINGS": settings, "RUNNER": render})
    with serve(app, shutdown_timeout=10) as url:
        yield app, url
    app.extensions["reelsmith_publisher"].stop(5)


def test_the_publish_panel_is_accessible_and_publishes(site, page, youtube):
    from playwright.sync_api import expect

    app, url = site
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "octopus"}).get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    page.goto(url)
    panel = page.locator("details.publish")
    expect(panel).to_have_count(1, timeout=10_000)
    panel.locator("summary").press("Enter")  # opens from the keyboard
    expect(panel.locator(".publish-accounts")).to_contain_text("YouTube: connected as Test Channel")
    found = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in violations(page)
        if v["impact"] in ("serious", "critical") or v["id"] in EXTRA_RULES
    ]
    assert found == []
    expect(panel.get_by_label("Title")).to_have_value(RESULT["title"])
    panel.get_by_role("button", name="Publish").click()
    expect(panel.locator(".publish-error")).to_contain_text("made_for_kids")
    panel.get_by_label("No, it is not made for kids").check()
    panel.get_by_label("Privacy").select_option("unlisted")
    panel.get_by_role("button", name="Publish").click()
    link = panel.locator(".publication.published a")
    expect(link).to_have_attribute(
        "href", f"https://www.youtube.com/watch?v={youtube.video_id}", timeout=20_000
    )
    assert youtube.metadata["status"]["privacyStatus"] == "unlisted"
