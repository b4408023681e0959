"""The length asked for: word budgets, the offline writer within them, and the
model asked once more when its reply is far from the budget."""

from __future__ import annotations

import pytest

from cache import Cache
from content_generator import ContentGenerator
from reelsmith.core.exceptions import ScriptError
from reelsmith.script.offline_writer import offline_script
from reelsmith.script.text import (
    PROMPT_VERSION,
    estimated_seconds,
    word_budget,
)
from tests.helpers.scripts import OFFLINE, generator
from tests.helpers.servers import GOOD_SCRIPT, FakeOpenAI


# -- the length asked for ------------------------------------------------------------------
@pytest.mark.parametrize("seconds", [10, 15, 30, 45, 60, 90, 120])
@pytest.mark.parametrize("pace", [1.8, 2.5, 3.2])
def test_word_budget_fills_the_video_with_its_pauses(seconds, pace):
    budget = word_budget(seconds, pace)
    assert budget.sentences >= 3 and budget.words_per_second == pace
    # words read at the pace, plus the lead-in, the pauses and the tail, make the target
    assert estimated_seconds(budget.words, budget.sentences, pace) == pytest.approx(
        seconds, abs=0.3
    )
    assert budget.words < seconds * pace  # the pauses take their share


def test_a_faster_voice_gets_more_words():
    slow, usual, fast = (word_budget(60, pace).words for pace in (2.0, None, 3.0))
    assert slow < usual < fast and usual == word_budget(60, 2.5).words


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"target_seconds": 0}, "target_seconds"),
        ({"target_seconds": "30"}, "target_seconds"),
        ({"words_per_second": 0}, "words_per_second"),
        ({"words_per_second": -2}, "words_per_second"),
        ({"words_per_second": True}, "words_per_second"),
    ],
)
def test_bad_length_arguments_name_the_field(kwargs, field):
    with pytest.raises(ScriptError, match=field):
        ContentGenerator(settings=OFFLINE).generate_script("tea", **kwargs)


TOPICS = [
    "why octopuses have three hearts",
    "How do bees make honey?",
    "Why is the sky blue",
    "black holes",
    "the history of the bicycle",
    "tea",
    "do fish sleep",
]


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("seconds", [15, 30, 60, 90])
@pytest.mark.parametrize("pace", [None, 2.1, 3.0])
def test_offline_script_length_is_within_ten_percent_of_the_budget(topic, seconds, pace):
    budget = word_budget(seconds, pace)
    script = offline_script(topic, seconds, pace)
    assert abs(script.words - budget.words) <= 0.1 * budget.words
    length = estimated_seconds(script.words, len(script.sentences), budget.words_per_second)
    assert abs(length - seconds) <= 0.1 * seconds
    assert script.note == ""


@pytest.mark.parametrize("seconds", [10, 120])
def test_offline_script_length_at_the_ends_of_the_range(seconds):
    for topic in TOPICS:
        budget = word_budget(seconds)
        script = offline_script(topic, seconds)
        assert abs(script.words - budget.words) <= 0.15 * budget.words, topic
        assert len(set(script.sentences)) == len(script.sentences)


def test_offline_writer_says_when_it_cannot_fill_the_length():
    script = offline_script("tea", 600, 6.0)  # a very fast voice: more words than it has
    assert len(set(script.sentences)) == len(script.sentences)
    assert script.note.startswith("the offline writer could only fit")
    assert f"{script.words} words" in script.note


def long_script(words_per_sentence: int, sentences: int = 5) -> dict:
    body = [
        " ".join(["Padded", "sentence", str(i), *["again"] * (words_per_sentence - 4), "end."])
        for i in range(sentences)
    ]
    return dict(GOOD_SCRIPT, sentences=body, scenes=GOOD_SCRIPT["scenes"][:sentences])


def test_a_reply_far_from_the_budget_is_asked_again_with_the_count():
    short = long_script(8)  # 40 words for a budget of 69
    with FakeOpenAI(scripts=[short]) as server:
        gen = generator(server)
        script = gen.generate_script("octopus hearts", target_seconds=30)
    assert len(server.requests) == 2 and gen.calls == 2
    assert script.sentences == GOOD_SCRIPT["sentences"] and script.note == ""
    first, second = (r["body"]["messages"] for r in server.requests)
    assert second[:2] == first
    assistant, retry = second[2:]
    assert assistant["role"] == "assistant" and "Padded sentence 0" in assistant["content"]
    budget = word_budget(30)
    assert retry["role"] == "user"
    assert retry["content"].startswith(
        f"That script has 40 words in 5 sentences. It must have about {budget.words} words"
    )


def test_two_replies_far_from_the_budget_keep_the_closer_and_say_so():
    with FakeOpenAI(scripts=[long_script(30), long_script(24)], script=long_script(8)) as server:
        script = generator(server).generate_script("octopus hearts", target_seconds=30)
    assert len(server.requests) == 2
    assert script.words == 5 * 24
    assert script.note.startswith(
        f"the model missed the length twice (120 words for a budget "
        f"of {word_budget(30).words}); kept its closer script"
    )


def test_a_reply_within_the_budget_is_not_asked_again():
    within = long_script(16)  # 80 words: inside +-20 % of 69
    with FakeOpenAI(script=within) as server:
        script = generator(server).generate_script("octopus hearts", target_seconds=30)
    assert len(server.requests) == 1 and script.words == 80


def test_the_voices_pace_sets_the_budget_and_the_cache_key(tmp_path):
    cache = Cache(tmp_path)
    with FakeOpenAI(script=long_script(20)) as server:  # 100 words: fits 30 s at 3.6 words/s
        gen = generator(server, cache=cache)
        script = gen.generate_script("tea", words_per_second=3.6)
        assert len(server.requests) == 1 and script.words == 100
        assert (
            "the voice reads 3.6 words a second"
            in server.requests[0]["body"]["messages"][1]["content"]
        )
        gen.generate_script("tea", words_per_second=3.6)
        assert len(server.requests) == 1  # cached
        assert gen.cache_key("tea", words_per_second=3.6) != gen.cache_key("tea")
        assert PROMPT_VERSION in gen.cache_key("tea")


def test_chinese_japanese_and_korean_are_counted_in_characters():
    budget = word_budget(30, 4.0)  # a pace in characters a second, as speech measures them
    fits = dict(GOOD_SCRIPT, sentences=["章" * (budget.words // 5) + "。"] * 5)
    short = dict(GOOD_SCRIPT, sentences=["章鱼有三颗心。"] * 5)
    with FakeOpenAI(scripts=[short], script=fits) as server:
        script = generator(server).generate_script("章鱼", language="zh-CN", words_per_second=4.0)
    assert len(server.requests) == 2 and script.note == ""
    first, retry = server.requests[0]["body"]["messages"], server.requests[1]["body"]["messages"]
    assert f"{budget.words} characters in all" in first[1]["content"]
    assert retry[-1]["content"].startswith("That script has 30 characters in 5 sentences")


def test_thai_length_is_not_counted():
    with FakeOpenAI(script=long_script(8)) as server:
        script = generator(server).generate_script("ปลาหมึก", language="th", target_seconds=60)
    assert len(server.requests) == 1 and script.note == ""
    prompt = server.requests[0]["body"]["messages"][1]["content"]
    assert (
        "60 seconds of video" in prompt
        and " words" not in prompt.split("Length:")[1].split("\n")[0]
    )
