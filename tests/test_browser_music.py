"""The music picker in headless Chromium: the bundled tracks by mood, a track
to listen to, keyboard use, and the choice sent with the task."""

from tests.helpers.browser import needs_chromium
from tests.test_browser_options import wait_until

pytestmark = needs_chromium


def test_music_picker_lists_tracks_plays_one_and_submits_the_choice(server, page, shots):
    from playwright.sync_api import expect

    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(server)
    page.click("summary:has-text('Your own script and options')")
    wait_until(page, "document.querySelectorAll('#music-choice optgroup').length === 6")
    values = page.evaluate("[...document.getElementById('music-choice').options].map(o => o.value)")
    assert values[:7] == ["auto", "none", "calm", "energetic", "happy", "nostalgic", "tender"]
    assert len(values) == 7 + 28 and "calm_acoustic_1" in values
    expect(page.get_by_label("Track or mood")).to_have_value("auto")
    assert page.locator("#music-play").is_disabled()  # auto: nothing to listen to yet

    page.select_option("#music-choice", "calm_acoustic_1")
    expect(page.locator("#music-note")).to_contain_text("68 bpm, C major")
    expect(page.locator("#music-note")).to_contain_text("MIT")
    page.focus("#music-play")
    page.keyboard.press("Enter")  # the keyboard plays it too
    wait_until(page, "document.getElementById('music-sample').src.startsWith('blob:')", 30)
    wait_until(page, "document.getElementById('music-sample').duration > 20", 10)
    expect(page.locator("#music-play")).to_have_text("■ Stop")
    page.keyboard.press("Enter")
    expect(page.locator("#music-play")).to_have_text("▶ Listen")
    page.locator("#music-picker").screenshot(path=str(shots / "music-picker.png"))

    page.select_option("#music-choice", "none")
    assert page.locator("#music-play").is_disabled()
    page.select_option("#music-choice", "tender")
    expect(page.locator("#music-note")).to_contain_text("One of the tender tracks")
    page.fill("#topic", "a letter to my grandmother")
    page.click("#submit")
    item = page.locator("li.task", has=page.locator(".task-title", has_text="grandmother"))
    expect(item).to_be_visible(timeout=10_000)
    task_id = item.get_attribute("data-task-id")
    task = page.evaluate(f"fetch('/api/task/{task_id}').then(r => r.json())")
    assert task["request"]["music"] == "tender"
    page.evaluate(f"fetch('/api/task/{task_id}/cancel', {{method: 'POST'}})")
    assert not console_errors, console_errors
