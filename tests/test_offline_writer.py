"""The offline writer: the scripts it writes without a model, their titles,
variety and length, and the Script round trip."""

from __future__ import annotations

import pytest

from content_generator import ContentGenerator
from reelsmith.script.offline_writer import offline_script
from reelsmith.script.text import (
    Script,
)
from tests.helpers.scripts import OFFLINE


# -- the offline writer ----------------------------------------------------------------
def test_offline_writer_without_a_key():
    gen = ContentGenerator(settings=OFFLINE)
    assert gen.mode == "offline" and gen.client is None
    script = gen.generate_script("why octopuses have three hearts")
    assert script.source == "offline" and script.language == "en"
    assert script.title == "Why Octopuses Have Three Hearts"
    assert 4 <= len(script.sentences) <= 7
    assert any("why octopuses have three hearts" in s for s in script.sentences)
    assert script.sentences[-1].startswith(("Follow", "If you learned"))
    assert script.hashtags[:2] == ["octopuses", "hearts"]
    assert gen.calls == 0


@pytest.mark.parametrize(
    "topic",
    [
        "why octopuses have three hearts",
        "How do bees make honey?",
        "what is a black hole",
        "Why is the sky blue",
        "do fish sleep",
        "black holes",
        "the history of the bicycle",
        "tea",
        "What are black holes made of?",
    ],
)
@pytest.mark.parametrize("seconds", [10, 15, 30, 45, 60, 90, 120])
def test_offline_scripts_are_well_formed(topic, seconds):
    script = offline_script(topic, seconds)
    assert 3 <= len(script.sentences) <= 30
    assert len(set(script.sentences)) == len(script.sentences)  # no sentence twice
    for sentence in script.sentences:
        assert sentence[0].isupper() and sentence[-1] in ".?!"
        assert "{" not in sentence and "  " not in sentence and " ," not in sentence
    assert script.title and script.description
    assert 3 <= len(script.hashtags) <= 5
    assert all(tag == tag.lower() and tag.isalnum() for tag in script.hashtags)


@pytest.mark.parametrize(
    "topic, core, grammatical",
    [
        ("do fish sleep", "fish sleep", ["Do fish sleep?", "whether fish sleep"]),
        (
            "how do bees make honey",
            "bees make honey",
            ["How do bees make honey?", "how bees make honey"],
        ),
        ("what is a black hole", "black hole", ["What is a black hole?", "what a black hole is"]),
        # questions that cannot be rephrased reliably are only ever asked as typed
        ("Why is the sky blue", "sky", ["Why is the sky blue?"]),
        ("What are black holes made of?", "black holes", ["What are black holes made of?"]),
        ("what is inside a black hole", "black hole", ["What is inside a black hole?"]),
    ],
)
@pytest.mark.parametrize("seconds", [15, 30, 45, 60, 120])
def test_offline_writer_puts_question_topics_in_grammatical_phrases(
    topic, core, grammatical, seconds
):
    """Never "Scientists have studied do fish sleep for years": every mention
    of the topic is the question itself or a clause made from it."""
    text = " ".join(offline_script(topic, seconds).sentences)
    assert text.count(core) >= 1
    assert text.count(core) == sum(text.count(phrase) for phrase in grammatical)


def test_offline_titles():
    assert offline_script("what is a black hole").title == "What Is a Black Hole?"
    assert offline_script("how do bees make honey").title == "How Do Bees Make Honey?"
    assert offline_script("What are black holes made of?").title == "What Are Black Holes Made Of?"
    assert offline_script("NASA and the iPhone").title == "NASA and the iPhone"


def test_offline_writer_is_deterministic_and_varied():
    assert offline_script("coral reefs") == offline_script(" coral   reefs ")
    topics = [
        "tea",
        "black holes",
        "volcanoes",
        "the Roman empire",
        "coral reefs",
        "jazz",
        "why cats purr",
        "how rainbows form",
    ]
    scripts = [offline_script(t) for t in topics]
    # the templates picked differ between topics, not just the topic words in them
    assert len({s.sentences[1] for s in scripts}) >= 3
    assert len({s.sentences[-1] for s in scripts}) >= 2


def test_offline_writer_length_follows_the_target():
    counts = [len(offline_script("tea", s).sentences) for s in (10, 30, 60, 90, 120)]
    assert counts == sorted(counts) and counts[0] >= 3 and counts[-1] >= 20


def test_offline_writer_writes_english_whatever_the_language():
    script = ContentGenerator(settings=OFFLINE).generate_script("le thé", language="fr")
    assert script.language == "en"  # the voice must read it as English


def test_script_round_trip():
    script = offline_script("tea")
    assert Script.from_dict(script.to_dict()) == script
    assert Script.from_dict(dict(script.to_dict(), unknown="ignored")) == script
    # the short form still works: a user script without description or hashtags
    assert Script(title="Tea", sentences=["Tea is a leaf."]) == Script(
        title="Tea", sentences=["Tea is a leaf."], description="", hashtags=[], source="user"
    )
