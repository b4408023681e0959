""" "Your own recording" on the real page, in headless Chromium: the voice is
switched off, the recording and its script go with the form, and the video
follows the recording (its words aligned, no voice spoke)."""

import json
import urllib.request

from tests.helpers.browser import needs_chromium
from tests.helpers.recordings import piper_recording

pytestmark = needs_chromium

SCRIPT = ["Tea is a leaf from a small tree.", "People brew it hot, or drink it cold."]


def test_a_video_from_your_own_recording_on_the_page(server, page, tmp_path):
    from playwright.sync_api import expect

    wav, _ = piper_recording(tmp_path, SCRIPT, pause=0.5, lead=0.3)
    page.goto(server)
    page.locator("details summary").first.click()
    expect(page.locator("#narration")).to_be_disabled()
    page.get_by_label("Your own recording").check()
    expect(page.locator("#voice")).to_be_disabled()  # no voice speaks
    page.locator("#narration").set_input_files(str(wav))
    expect(page.locator("#narration-note")).to_contain_text("narration.wav")
    page.fill("#script", " ".join(SCRIPT))
    page.fill("#topic", "tea")
    page.click("#submit")
    item = page.locator("li.task").first
    expect(item.locator(".task-status")).to_have_text("done", timeout=240_000)
    with urllib.request.urlopen(f"{server}/api/tasks") as reply:
        (task,) = json.load(reply)["tasks"]
    result = task["result"]
    assert (result["voice_engine"], result["word_timing"]) == ("recording", "aligned")
    assert result["sentences"] == SCRIPT
    assert task["request"]["voice"] in (None, "auto")  # the disabled voice was not sent
