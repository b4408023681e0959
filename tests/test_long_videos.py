"""Long videos: up to 600 s in every aspect, through the API, the model and
the CLI; and the offline writer fills a long target (no render)."""

from __future__ import annotations

import pytest

from app import create_app
from reelsmith.core.exceptions import BadRequest
from reelsmith.core.settings import ASPECTS
from reelsmith.request import CreateRequest
from reelsmith.script.offline_writer import offline_script
from reelsmith.script.text import estimated_seconds, word_budget
from tests.helpers import make_settings


@pytest.fixture
def app(tmp_path):
    return create_app(
        {"SETTINGS": make_settings(tmp_path), "START_WORKERS": False, "RUNNER": lambda t, r: {}}
    )


@pytest.mark.parametrize("aspect", sorted(ASPECTS))
def test_600_seconds_is_taken_in_every_aspect_and_601_refused_naming_length(app, aspect):
    client = app.test_client()
    reply = client.post("/api/create", json={"topic": "tea", "length": 600, "aspect": aspect})
    assert reply.status_code == 202, reply.get_json()
    task = app.extensions["reelsmith"].store.get(reply.get_json()["task_id"])
    assert task.request.length == 600 and task.request.aspect == aspect

    reply = client.post("/api/create", json={"topic": "tea", "length": 601, "aspect": aspect})
    assert reply.status_code == 400
    assert reply.get_json()["field"] == "length"
    assert "between 10 and 600 seconds" in reply.get_json()["error"]
    assert len(app.extensions["reelsmith"].store.list()) == 1


def test_the_model_the_page_and_the_cli_share_the_600_second_limit(app):
    assert CreateRequest(topic="t", length=600).length == 600
    with pytest.raises(BadRequest) as refused:
        CreateRequest(topic="t", length=601)
    assert refused.value.field == "length"
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'max="600"' in page
    result = app.test_cli_runner().invoke(args=["create", "tea", "--length", "601"])
    assert result.exit_code == 2 and "--length" in result.output


@pytest.mark.parametrize("topic", ["black holes", "Why is the sky blue?", "how do bees make honey"])
def test_the_offline_writer_fills_a_300_second_target(topic):
    budget = word_budget(300)
    script = offline_script(topic, 300)
    seconds = estimated_seconds(script.words, len(script.sentences), budget.words_per_second)
    assert abs(seconds - 300) <= 0.1 * 300, seconds
    assert len(script.sentences) > 40  # more than the old cap on a script's sentences
    assert len(set(script.sentences)) == len(script.sentences)  # no sentence twice
    assert script.note == ""


@pytest.mark.parametrize("topic", ["tea", "Why is the sky blue?"])
def test_the_offline_writer_comes_near_600_seconds_and_says_when_a_fast_voice_needs_more(topic):
    budget = word_budget(600)
    script = offline_script(topic, 600)
    seconds = estimated_seconds(script.words, len(script.sentences), budget.words_per_second)
    assert abs(seconds - 600) <= 0.1 * 600, seconds
    assert len(set(script.sentences)) == len(script.sentences)
    fast = offline_script(topic, 600, 3.2)  # more words than it has sentences for
    assert fast.note.startswith("the offline writer could only fit")
    assert len(set(fast.sentences)) == len(fast.sentences) >= len(script.sentences)


def test_your_own_script_for_600_seconds_fits_the_default_limit(app):
    """600 s of narration at the usual pace is some 1,420 words, about 8,200
    characters: the default MAX_SCRIPT_CHARS takes it."""
    budget = word_budget(600)
    sentence = "Tea leaves are picked, withered, rolled and dried before they reach a cup. "
    text = sentence * (budget.words // len(sentence.split()) + 1)
    assert len(text.split()) >= budget.words and len(text) > 5000  # the old default
    reply = app.test_client().post("/api/create", json={"script": text, "length": 600})
    assert reply.status_code == 202, reply.get_json()
