"""The storyboard on the real page, in headless Chromium, from the keyboard:
write the script, edit, move, add and remove scenes, give one a picture,
render; then "Edit scenes" on the finished video and re-render. axe-core
checks the storyboard and the finished video at a phone's and a desktop's size.
"""

import json
import re
import time
import urllib.request

from tests.helpers.browser import needs_chromium
from tests.helpers.fake_visuals import png
from tests.test_page_a11y import EXTRA_RULES, violations

pytestmark = needs_chromium

SCRIPT = "Tea is a leaf. People brew it hot. Some drink it cold."
SIZES = [(390, 844), (1280, 900)]


def serious(page) -> list:
    return [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in violations(page)
        if v["impact"] in ("serious", "critical") or v["id"] in EXTRA_RULES
    ]


def audit(page, state: str) -> None:
    """No serious or critical violation at either size."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        assert serious(page) == [], (state, width)


def texts(page) -> list[str]:
    return [t.input_value() for t in page.locator("#scenes textarea").all()]


def wait_done(item, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if item.locator(".task-status").text_content() in ("done", "failed", "canceled"):
            break
        time.sleep(0.2)


def test_storyboard_from_the_keyboard_then_edit_scenes_and_re_render(server, page, tmp_path):
    from playwright.sync_api import expect

    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    picture = tmp_path / "red.png"
    picture.write_bytes(png((220, 30, 30), (180, 320)))
    page.goto(server)
    page.locator("details summary").first.click()
    page.fill("#script", SCRIPT)
    page.select_option("#voice", "espeak")
    page.focus("#write-script")
    page.keyboard.press("Enter")

    board = page.locator("#storyboard")
    expect(board).to_be_visible(timeout=60_000)
    expect(page.locator("#storyboard-heading")).to_be_focused()
    expect(page.locator("#scenes > li")).to_have_count(3)
    assert texts(page) == ["Tea is a leaf.", "People brew it hot.", "Some drink it cold."]
    expect(page.locator("#scenes img").first).to_have_attribute("src", re.compile(r"\.jpg$"))
    audit(page, "storyboard")

    # Scene 2 says something else; scene 3 moves up; a fourth is added; scene 1 goes.
    page.get_by_label("Scene 2: what it says").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("People brew it very hot.")
    page.get_by_role("button", name="Move up: scene 3").focus()
    page.keyboard.press("Enter")
    assert texts(page) == ["Tea is a leaf.", "Some drink it cold.", "People brew it very hot."]
    expect(page.get_by_role("button", name="Move up: scene 2")).to_be_focused()
    page.get_by_role("button", name="Add a scene").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scene 4: what it says")).to_be_focused()
    page.keyboard.type("Iced tea is tea too.")
    page.get_by_role("button", name="Remove scene 1").focus()
    page.keyboard.press("Enter")
    assert texts(page) == [
        "Some drink it cold.",
        "People brew it very hot.",
        "Iced tea is tea too.",
    ]
    expect(page.get_by_label("Scene 1: what it says")).to_be_focused()
    page.get_by_label("Or your own picture or clip").nth(2).set_input_files(str(picture))

    # An empty scene is named, and nothing is sent.
    page.get_by_label("Scene 2: what it says").fill(" ")
    page.get_by_role("button", name="Render").click()
    expect(page.locator("#storyboard-error")).to_contain_text("Scene 2 says nothing")
    expect(page.get_by_label("Scene 2: what it says")).to_be_focused()
    page.keyboard.type("People brew it very hot.")
    page.get_by_role("button", name="Render").focus()
    page.keyboard.press("Enter")

    expect(board).to_be_hidden(timeout=30_000)
    item = page.locator("li.task").first
    wait_done(item)
    expect(item.locator(".task-status")).to_have_text("done")
    page.screenshot(path=tmp_path / "done.png", full_page=True)
    audit(page, "finished video")

    # Edit scenes on the finished video: the same cards, with their pictures.
    item.get_by_role("button", name="Edit scenes").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#storyboard-heading")).to_have_text("Edit scenes")
    assert texts(page) == [
        "Some drink it cold.",
        "People brew it very hot.",
        "Iced tea is tea too.",
    ]
    expect(page.get_by_label("Or your own picture or clip").first).to_be_hidden()
    audit(page, "edit scenes")
    page.keyboard.press("Escape")  # closed: the focus is back on the button that opened it
    expect(page.locator("#storyboard")).to_be_hidden()
    expect(item.get_by_role("button", name="Edit scenes")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Scene 1: what it says").fill("Some drink it cold, with ice.")
    page.get_by_role("button", name="Re-render").click()
    expect(board).to_be_hidden(timeout=30_000)
    expect(page.locator("li.task")).to_have_count(2)
    revision = page.locator("li.task").first
    wait_done(revision)
    expect(revision.locator(".task-status")).to_have_text("done")
    assert console_errors == []

    # What the server made of it: the scenes in order, the picture, the reuse.
    with urllib.request.urlopen(f"{server}/api/tasks") as reply:
        tasks = json.load(reply)["tasks"]
    second, first = tasks[0]["result"], tasks[1]["result"]
    assert (
        [scene["text"] for scene in first["scenes"]]
        == first["sentences"]
        == [
            "Some drink it cold.",
            "People brew it very hot.",
            "Iced tea is tea too.",
        ]
    )
    assert first["visuals_per_sentence"][2]["source"] == "upload"
    assert second["sentences"][0] == "Some drink it cold, with ice."
    assert second["revision_of"] == tasks[1]["id"]
    assert second["visuals_per_sentence"][2]["source"] == "upload"
    # Scene 0 says more; scene 2's picture is the same: its segment is reused.
    assert 0 in second["segments"]["encoded"] and 2 in second["segments"]["reused"]


def test_review_before_rendering_opens_the_scenes_to_approve(server, page):
    from playwright.sync_api import expect

    page.goto(server)
    page.locator("details summary").first.click()
    page.fill("#script", SCRIPT)
    page.select_option("#voice", "espeak")
    page.check("#review")
    page.click("#submit")
    expect(page.locator("#storyboard-heading")).to_have_text("Scenes to approve", timeout=60_000)
    expect(page.locator("#storyboard-heading")).to_be_focused()
    item = page.locator("li.task").first
    expect(item.locator(".task-status")).to_have_text("review")
    page.get_by_role("button", name="Remove scene 3").click()
    page.get_by_role("button", name="Approve and render").click()
    wait_done(item)
    expect(item.locator(".task-status")).to_have_text("done")
    expect(item.get_by_role("button", name="Review scenes")).to_be_hidden()
    expect(item.locator(".task-detail")).to_contain_text("s · voice: espeak")
    with urllib.request.urlopen(f"{server}/api/tasks") as reply:
        (task,) = json.load(reply)["tasks"]
    assert task["result"]["sentences"] == ["Tea is a leaf.", "People brew it hot."]
