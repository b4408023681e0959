"""The real page in headless Chromium, driven by Playwright, against the real app.

Needs Debian's Chromium at /usr/bin/chromium (`.ci/run` installs it). Without
it the test is skipped with a message that says how to install it.
"""

import time

from tests.helpers.browser import needs_chromium

XSS = "<img src=x onerror=alert(1)>"

pytestmark = needs_chromium


def task_item(page, topic):
    return page.locator("li.task", has=page.locator(".task-title", has_text=topic))


def test_topic_to_playing_video_in_the_browser(server, page, shots):
    from playwright.sync_api import expect

    dialogs, console_errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(server)
    expect(page.locator("h1")).to_have_text("Reelsmith")
    expect(page.locator("#writer-mode")).to_contain_text("offline writer")
    page.screenshot(path=shots / "1-empty.png", full_page=True)

    topic = "why octopuses have three hearts"
    page.fill("#topic", topic)
    page.keyboard.press("Enter")  # the keyboard alone submits the form
    item = task_item(page, "Why Octopuses Have Three Hearts").or_(task_item(page, topic))
    expect(item).to_have_count(1, timeout=10_000)

    # Watch the bar move while the task runs.
    seen = set()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = item.locator(".task-status").text_content()
        seen.add(int(item.locator(".bar").get_attribute("aria-valuenow") or 0))
        if status in ("done", "failed"):
            break
        if status == "running" and len(seen) == 2:
            page.screenshot(path=shots / "2-running.png", full_page=True)
        time.sleep(0.1)
    expect(item.locator(".task-status")).to_have_text("done")
    assert any(0 < v < 100 for v in seen), f"the bar never showed progress: {sorted(seen)}"
    assert 100 in seen or item.locator(".bar").get_attribute("aria-valuenow") == "100"

    video = item.locator("video")
    expect(video).to_be_visible()
    state = video.evaluate(
        """async (v) => {
            v.muted = true;
            await v.play();
            await new Promise((r) => setTimeout(r, 500));
            return {readyState: v.readyState, duration: v.duration, time: v.currentTime,
                    width: v.videoWidth, height: v.videoHeight};
        }"""
    )
    assert state["readyState"] >= 2 and state["duration"] > 5, state
    assert state["time"] > 0 and (state["width"], state["height"]) == (360, 640), state
    href = item.locator("a.dl-video").get_attribute("href")
    assert href.endswith("/video?download=1")
    page.screenshot(path=shots / "3-done.png", full_page=True)

    # A second task, canceled from the page; the XSS topic stays text.
    page.fill("#topic", XSS)
    page.click("#submit")
    xss_item = task_item(page, XSS)
    expect(xss_item).to_have_count(1, timeout=10_000)
    xss_item.locator("button.cancel").click()
    expect(xss_item.locator(".task-status")).to_have_text("canceled", timeout=30_000)
    assert xss_item.locator(".task-title").text_content() == XSS
    assert page.locator("li.task img").count() == 0
    page.screenshot(path=shots / "4-canceled.png", full_page=True)

    assert dialogs == [] and console_errors == []

    # Bad input: the server's message is shown, nothing is queued.
    page.fill("#topic", "   ")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("topic is required")
    assert page.locator("li.task").count() == 2
