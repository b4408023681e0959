"""The page's accessibility, checked by axe-core (the copy shipped in the
axe-playwright-python wheel, run offline) in Debian's Chromium at a phone's
and a desktop's size, with a task on the list; and what axe does not check:
the offline writer's hint is said once."""

from importlib.resources import files

import pytest

from app import create_app
from reelsmith.core.settings import Settings
from tests.helpers.browser import needs_chromium

pytestmark = needs_chromium

AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
# Off by default in axe (experimental): the issue named it, so it is run too.
EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}


@pytest.fixture
def site(tmp_path):
    """The app with no workers (a created task stays queued, its bar shown)
    and no script model: the offline writer."""
    from tests.helpers.live import serve

    settings = Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "instance" / "cache",
        discover_local_llm=False,
        openai_api_key="",
    )
    app = create_app({"SETTINGS": settings, "START_WORKERS": False, "RUNNER": lambda t, r: {}})
    with serve(app, shutdown_timeout=10) as url:
        yield app, url


def violations(page) -> list[dict]:
    """axe's violations on the page with every <details> open (axe skips what
    is hidden: the options' controls too)."""
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    page.evaluate(AXE)
    results = page.evaluate(
        "(rules) => axe.run(document, {resultTypes: ['violations'], rules})", EXTRA_RULES
    )
    return results["violations"]


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 900)])
def test_axe_finds_no_serious_violation_on_the_form_page(site, page, viewport):
    from playwright.sync_api import expect

    app, url = site
    assert app.test_client().post("/api/create", json={"topic": "tea"}).status_code == 202
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(url)
    expect(page.locator("li.task .bar")).to_have_count(1, timeout=10_000)
    # the script writer's own words have replaced the server's note
    expect(page.locator("#writer-mode")).to_contain_text(
        "No script model was found", timeout=60_000
    )  # /api/status takes some 10 s here
    found = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in violations(page)
        if v["impact"] in ("serious", "critical") or v["id"] in EXTRA_RULES
    ]
    assert found == []


def test_each_progress_bar_has_a_name_and_the_writer_hint_shows_once(site, page):
    from playwright.sync_api import expect

    app, url = site
    for topic in ("tea", "coffee"):
        assert app.test_client().post("/api/create", json={"topic": topic}).status_code == 202
    page.goto(url)
    bars = page.get_by_role("progressbar")
    expect(bars).to_have_count(2, timeout=10_000)
    expect(page.get_by_role("progressbar", name="Progress of tea")).to_have_count(1)
    expect(page.get_by_role("progressbar", name="Progress of coffee")).to_have_count(1)
    writer = page.locator("#writer-mode")
    expect(writer).to_contain_text("No script model was found", timeout=60_000)
    text = writer.text_content()
    assert text.count("offline writer") == 1 and text.count("placeholders") == 1, text
    # the voice sample button's name starts with the word it shows
    name = page.locator("#voice-play").get_attribute("aria-label")
    assert name.startswith("Listen"), name
