"""The options on the page in headless Chromium: the caption style picker
(a real preview frame that follows the user's choice, sent with the task) and
the voice picker (voices by id, a sample to hear, speed, the script estimate)."""

import re

from tests.helpers.browser import needs_chromium

pytestmark = needs_chromium


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` in the page (wait_for_function would need 'unsafe-eval',
    which the page's Content-Security-Policy rightly refuses)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


def test_style_picker_previews_and_submits_the_style(server, page, shots):
    from playwright.sync_api import expect

    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(server)
    image = page.locator("#cap-preview")
    expect(image).to_have_attribute("src", re.compile("^blob:"), timeout=10_000)
    wait_until(page, "document.getElementById('cap-preview').naturalWidth > 0")
    first_src = image.get_attribute("src")
    assert page.evaluate("document.getElementById('cap-preview').naturalHeight") > page.evaluate(
        "document.getElementById('cap-preview').naturalWidth"
    )  # 9:16

    page.select_option("#cap-preset", "pop")
    wait_until(page, f"document.getElementById('cap-preview').src !== {first_src!r}")
    wait_until(page, "document.getElementById('cap-preview').naturalWidth > 0")
    assert page.locator("#cap-mode").input_value() == "words"  # the preset's own fields show
    page.locator("#cap-highlight").fill("#ff00ff")
    wait_until(page, "document.getElementById('caption_style').value.includes('#FF00FF')")
    page.locator("#captions-picker").screenshot(path=str(shots / "caption-picker.png"))

    page.fill("#topic", "why bees dance")
    page.click("#submit")
    item = page.locator("li.task", has=page.locator(".task-title", has_text="why bees dance"))
    expect(item).to_be_visible(timeout=10_000)
    task_id = item.get_attribute("data-task-id")
    task = page.evaluate(f"fetch('/api/task/{task_id}').then(r => r.json())")
    assert task["request"]["caption_style"] == {"preset": "pop", "highlight_color": "#FF00FF"}
    page.evaluate(f"fetch('/api/task/{task_id}/cancel', {{method: 'POST'}})")
    assert not console_errors, console_errors


def test_voice_picker_sample_speed_and_script_estimate(server, page):
    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(server)
    page.click("summary:has-text('Your own script and options')")
    wait_until(page, "document.querySelectorAll('#voice optgroup').length > 0")
    # English voices from this machine, by id, under their engine.
    ids = page.evaluate(
        "[...document.querySelectorAll('#voice optgroup option')].map(o => o.value)"
    )
    assert "piper:en_US-joe-medium" in ids and all(
        i.split(":")[0] in ("piper", "espeak", "gtts", "edge", "openai") for i in ids
    )
    page.fill("#language", "de")
    page.dispatch_event("#language", "change")
    wait_until(
        page,
        "[...document.querySelectorAll('#voice optgroup option')].every(o => !o.value.startsWith('piper:en'))",
    )
    page.fill("#language", "en")
    page.dispatch_event("#language", "change")
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.click("#voice-play")
    wait_until(page, "document.getElementById('voice-sample').src.startsWith('blob:')", timeout=30)
    wait_until(page, "document.getElementById('voice-sample').duration > 0.5", timeout=10)

    page.fill("#script", "Bees dance to vote. The best site wins. Then the swarm flies there.")
    page.dispatch_event("#script", "input")
    wait_until(
        page, "document.getElementById('script-estimate').textContent.includes('s of video')"
    )
    normal = page.locator("#script-estimate").text_content()
    page.locator("#speed").fill("2")
    page.dispatch_event("#speed", "input")
    fast = page.locator("#script-estimate").text_content()
    seconds = lambda text: int(text.split("About ")[1].split(" s")[0])  # noqa: E731
    assert seconds(fast) < seconds(normal)
    assert "offline writer" in page.locator("#writer-mode").text_content()
    assert not console_errors, console_errors


# A checksum of the preview's pixels, read back through a canvas (the blob is same-origin).
PREVIEW_PIXELS = """(() => {
  const img = document.getElementById('cap-preview');
  if (!img.complete || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  let sum = 0;
  for (const v of context.getImageData(0, 0, canvas.width, canvas.height).data) sum = (sum * 31 + v) >>> 0;
  return sum;
})()"""


def preview_request(content_type: str):
    """Matches a preview request whose Content-Type starts with ``content_type``."""
    return lambda r: (
        r.url.endswith("/api/preview")
        and r.headers.get("content-type", "").startswith(content_type)
    )


def test_preview_is_drawn_with_the_picked_font_file(server, page, tmp_path):
    """A font file picked on the page goes with each preview request (multipart)
    and the frame is drawn with it (the same frame as the bundled Anton, picked
    by name); a file that is no font is refused in the note.

    Chromium does not show Playwright a body with a file in it, so what the
    request carried is seen in its Content-Type and in the frame it brings back."""
    from reelsmith.captions import fonts
    from reelsmith.captions.presets import PRESETS

    console_errors = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.goto(server)
    note = page.locator("#cap-preview-note")
    assert "not in this preview" not in page.locator("label[for=font]").text_content()
    assert page.locator("#cap-preset").input_value() == "classic"  # Noto Sans
    wait_until(
        page, "document.getElementById('cap-preview-note').textContent.includes('(classic)')"
    )
    wait_until(page, f"{PREVIEW_PIXELS} !== null")
    plain = page.evaluate(PREVIEW_PIXELS)

    anton = tmp_path / "My Anton.ttf"
    anton.write_bytes(fonts.FAMILIES["anton"].face().path.read_bytes())
    with page.expect_request(preview_request("multipart/form-data; boundary=")):
        page.set_input_files("#font", str(anton))
    wait_until(
        page, "document.getElementById('cap-preview-note').textContent.includes('My Anton.ttf')"
    )
    wait_until(page, f"![null, {plain}].includes({PREVIEW_PIXELS})")
    with_file = page.evaluate(PREVIEW_PIXELS)
    with page.expect_request(preview_request("multipart/form-data")):
        page.locator("#cap-size").fill("70")  # a style change sends the file again
    page.locator("#cap-size").fill(str(PRESETS["classic"].size))  # back to the preset's

    # Without the file the preview is JSON again; Anton by name draws the frame the file drew.
    with page.expect_request(preview_request("application/json")):
        page.set_input_files("#font", [])
    page.select_option("#cap-font", "anton")
    wait_until(page, f"{PREVIEW_PIXELS} === {with_file}")

    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"not a font")
    page.set_input_files("#font", str(bad))
    wait_until(page, "document.getElementById('cap-preview-note').textContent.startsWith('font:')")
    assert "broken.ttf" in note.text_content()
    # the browser logs the refused request (400) itself; nothing else went wrong
    assert [e for e in console_errors if "400" not in e] == [], console_errors
