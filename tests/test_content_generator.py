"""ContentGenerator: the real openai SDK against the FakeOpenAI of
tests/servers.py, the offline writer, user scripts and the cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from cache import Cache
from content_generator import ContentGenerator
from reelsmith.core import http_pool
from reelsmith.core.exceptions import ScriptError
from reelsmith.core.languages import split_sentences
from reelsmith.core.settings import Settings
from reelsmith.script.offline_writer import offline_script
from reelsmith.script.text import (
    PROMPT_VERSION,
    Script,
    estimated_seconds,
    word_budget,
)
from tests.helpers.servers import GOOD_SCRIPT, FakeOpenAI

KEY = "sk-test-0123456789-secret"
OFFLINE = Settings.build(discover_local_llm=False)  # no probe for a local model: the offline writer


def generator(server: FakeOpenAI, **kwargs: Any) -> ContentGenerator:
    kwargs.setdefault("max_retries", 0)
    return ContentGenerator(
        api_key=KEY, base_url=server.base_url, model="fake-model", settings=Settings(), **kwargs
    )


# -- the LLM through the real SDK ----------------------------------------------
def test_structured_output_request_and_reply():
    reply = dict(GOOD_SCRIPT, hashtags=["#Octopus", "ocean", "marine biology", "Ocean"])
    with FakeOpenAI(script=reply) as server:
        gen = generator(server)
        script = gen.generate_script(
            "octopus hearts", language="fr", tone="playful", target_seconds=30
        )
    assert gen.mode == "openai" and gen.calls == 1
    scenes = GOOD_SCRIPT["scenes"]
    assert script == Script(
        title=GOOD_SCRIPT["title"],
        sentences=GOOD_SCRIPT["sentences"],
        description=GOOD_SCRIPT["description"],
        hashtags=["octopus", "ocean", "marinebiology"],
        source="openai",
        language="fr",
        search_terms=[scene["search_terms"] for scene in scenes],
        visual_prompts=[scene["visual_prompt"] for scene in scenes],
    )
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "fake-model"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert set(schema["required"]) == {"title", "sentences", "description", "hashtags", "scenes"}
    assert schema["properties"]["sentences"]["type"] == "array"
    scene_schema = schema["$defs"]["SceneModel"]
    assert set(scene_schema["required"]) == {"search_terms", "visual_prompt"}
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    budget = word_budget(30)
    for wanted in (
        "octopus hearts",
        "playful",
        "'fr'",
        "30 seconds",
        f"{budget.sentences} sentences and {budget.words} words",
        f"between {budget.low} and {budget.high}",
        "bright colours, playful mood",
    ):
        assert wanted in user["content"]


def test_explicit_arguments_win_over_settings():
    settings = Settings.build(
        openai_api_key="sk-from-settings",
        openai_base_url="http://127.0.0.1:9/v1",
        openai_model="settings-model",
        openai_timeout=99,
        openai_max_retries=5,
    )
    with FakeOpenAI() as server:
        gen = ContentGenerator(
            api_key=KEY,
            base_url=server.base_url,
            model="explicit-model",
            settings=settings,
            timeout=3,
            max_retries=0,
        )
        gen.generate_script("tea")
    (request,) = server.requests
    assert request["authorization"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "explicit-model"
    assert (gen.timeout, gen.max_retries, gen.base_url) == (3.0, 0, server.base_url)
    offline = ContentGenerator(api_key="", settings=settings)  # an explicit empty key: offline
    assert offline.mode == "offline" and offline.client is None and offline.base_url is None


def test_malformed_reply_is_asked_for_once_more():
    with FakeOpenAI(modes=["malformed", "ok"]) as server:
        gen = generator(server)
        script = gen.generate_script("tea")
    assert script.source == "openai" and script.sentences == GOOD_SCRIPT["sentences"]
    assert len(server.requests) == 2 and gen.calls == 2


def test_malformed_twice_is_a_script_error_naming_the_reply():
    with FakeOpenAI(mode="malformed") as server:
        with pytest.raises(
            ScriptError, match="the model's reply was not a valid script: Invalid JSON"
        ) as info:
            generator(server).generate_script("tea")
    assert len(server.requests) == 2
    assert info.value.stage == "script"


@pytest.mark.parametrize(
    "script, mode, reason",
    [
        (
            dict(GOOD_SCRIPT, sentences=["Only one.", "  "]),
            "ok",
            "expected 3 to 40 sentences, got 1",
        ),
        ({"title": "No sentences"}, "ok", "sentences: Field required"),
        (GOOD_SCRIPT, "length", "cut off at the length limit"),
    ],
)
def test_unusable_replies(script, mode, reason):
    with FakeOpenAI(mode=mode, script=script) as server:
        with pytest.raises(ScriptError, match=reason):
            generator(server).generate_script("tea")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "mode, message",
    [
        ("401", r"the API key was rejected \(HTTP 401\)"),
        ("429", r"rate limit or quota exceeded \(HTTP 429\)"),
        ("500", r"the script server failed \(HTTP 500\)"),
    ],
)
def test_http_errors_become_clear_messages_without_the_key(mode, message):
    with FakeOpenAI(mode=mode) as server:
        with pytest.raises(ScriptError, match=message) as info:
            generator(server).generate_script("tea")
    assert len(server.requests) == 1  # max_retries=0 is honoured
    assert KEY not in str(info.value) and KEY not in info.value.message


def test_refused_request_says_why_without_the_key():
    with FakeOpenAI(mode="400") as server:
        with pytest.raises(
            ScriptError,
            match=r"refused the request \(HTTP 400\): Invalid parameter: "
            "'response_format'",
        ) as info:
            generator(server).generate_script("tea")
    assert KEY not in info.value.message and "(request made with key ***)" in info.value.message


def test_wrong_address_names_the_model():
    with FakeOpenAI() as server:  # the fake has no /chat/completions without /v1
        gen = ContentGenerator(
            api_key=KEY,
            base_url=server.base_url.removesuffix("/v1"),
            model="fake-model",
            settings=Settings(),
            max_retries=0,
        )
        with pytest.raises(ScriptError, match="answered 404 for model 'fake-model'") as info:
            gen.generate_script("tea")
    assert KEY not in info.value.message


def test_slow_server_times_out():
    with FakeOpenAI(mode="slow") as server:
        with pytest.raises(ScriptError, match="the script server did not answer within 0.5 s"):
            generator(server, timeout=0.5).generate_script("tea")
    assert len(server.requests) == 1


def test_unreachable_server():
    with FakeOpenAI() as server:
        url = server.base_url
    with pytest.raises(ScriptError, match=f"could not connect to the script server at {url}$"):
        ContentGenerator(
            api_key=KEY, base_url=url, settings=Settings(), max_retries=0
        ).generate_script("tea")


# -- connection pooling -----------------------------------------------------------
@pytest.fixture
def no_shared_client():
    """ContentGenerator without its shared client; the old one is put back after."""
    original = ContentGenerator.use_http_client(None)
    yield
    ContentGenerator.use_http_client(original)


def test_one_http_client_for_all_instances_and_threads(monkeypatch, no_shared_client):
    made: list[dict[str, Any]] = []

    class SlowClient(httpx.Client):
        def __init__(self, **kwargs: Any):
            made.append(kwargs)
            time.sleep(0.05)  # widen the window in which an unlocked check would race
            super().__init__(**kwargs)

    monkeypatch.setattr(http_pool.httpx, "Client", SlowClient)
    barrier = threading.Barrier(8)
    seen: list[httpx.Client] = []

    def worker() -> None:
        barrier.wait()
        seen.append(ContentGenerator._get_http_client())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client = ContentGenerator._get_http_client()
    try:
        assert len(made) == 1 and len(seen) == 8
        assert all(c is client for c in seen)
        limits = made[0]["limits"]
        assert (limits.max_keepalive_connections, limits.max_connections) == (10, 20)
        assert ContentGenerator(api_key=KEY, settings=Settings())._get_http_client() is client
    finally:
        client.close()


def test_concurrent_calls_open_no_more_connections_than_threads():
    with FakeOpenAI() as server:
        gen = generator(server)
        with ThreadPoolExecutor(max_workers=4) as pool:  # map re-raises a worker's error
            scripts = list(pool.map(gen.generate_script, [f"topic {i}" for i in range(20)]))
    assert all(script.source == "openai" for script in scripts)
    assert len(server.requests) == 20 and gen.calls == 20
    assert 1 <= server.connections <= 4


# -- the cache ----------------------------------------------------------------------
def test_cache_spares_repeated_requests(tmp_path):
    cache = Cache(tmp_path)
    with FakeOpenAI() as server:
        gen = generator(server, cache=cache)
        first = gen.generate_script("octopus", tone="calm")
        assert (gen.calls, len(server.requests)) == (1, 1)
        assert gen.generate_script("octopus", tone="calm") == first
        assert (gen.calls, len(server.requests)) == (1, 1)
        gen.generate_script("octopus", tone="calm", fresh=True)
        assert (gen.calls, len(server.requests)) == (2, 2)
        gen.generate_script("octopus", tone="excited")  # another option misses
        assert (gen.calls, len(server.requests)) == (3, 3)
        other = ContentGenerator(
            api_key=KEY,
            base_url=server.base_url,
            model="other-model",
            cache=cache,
            settings=Settings(),
            max_retries=0,
        )
        other.generate_script("octopus", tone="calm")  # another model misses
        assert len(server.requests) == 4
    assert server.connections == 1  # two instances, one pooled connection


def test_fresh_still_writes_the_cache(tmp_path):
    cache = Cache(tmp_path)
    with FakeOpenAI(script=dict(GOOD_SCRIPT, title="Old")) as server:
        gen = generator(server, cache=cache)
        gen.generate_script("octopus")
        server.script = dict(GOOD_SCRIPT, title="New")
        assert gen.generate_script("octopus", fresh=True).title == "New"
        assert gen.generate_script("octopus").title == "New"
    assert len(server.requests) == 2


def test_offline_scripts_are_cached_and_user_scripts_are_not(tmp_path):
    cache = Cache(tmp_path)
    gen = ContentGenerator(settings=OFFLINE, cache=cache)
    script = gen.generate_script("tea")
    key = gen.cache_key("tea")
    assert cache.get(key) == script.to_dict()
    cache.set(key, dict(script.to_dict(), title="From the cache"))
    assert gen.generate_script("tea").title == "From the cache"
    assert gen.generate_script("tea", fresh=True).title == "Tea"
    gen.generate_script("tea", user_script="My own words. Two sentences.")
    assert len(cache) == 1


# -- user scripts ---------------------------------------------------------------------
def test_user_script_is_split_into_sentences_without_the_llm():
    with FakeOpenAI() as server:
        gen = generator(server)
        script = gen.generate_script(
            "tea", language="de", user_script="Tea is old.  It came from China!\nPeople love it"
        )
        untitled = gen.generate_script(
            "", user_script="Honey is sweet and keeps for years. Bees make it."
        )
    assert script.sentences == ["Tea is old.", "It came from China!", "People love it"]
    assert (script.source, script.title, script.language) == ("user", "tea", "de")
    assert untitled.title == "Honey is sweet and keeps for"
    assert server.requests == [] and gen.calls == 0


def test_split_sentences():
    assert split_sentences("One. Two? Three!\n\nFour") == ["One.", "Two?", "Three!", "Four"]
    assert split_sentences('He said "Stop." Then he left.') == ['He said "Stop."', "Then he left."]
    assert split_sentences("Pi is 3.14 or so… Right?") == ["Pi is 3.14 or so…", "Right?"]
    assert split_sentences("你好。我是猫！") == ["你好。", "我是猫！"]
    assert split_sentences(" \n...\n") == []


def test_input_errors():
    gen = ContentGenerator(settings=OFFLINE)
    with pytest.raises(ScriptError, match="the topic is empty"):
        gen.generate_script("   ")
    with pytest.raises(ScriptError, match="the topic is empty"):
        gen.generate_script("  ", user_script="   ")  # a blank script is no script
    with pytest.raises(ScriptError, match="no sentences"):
        gen.generate_script("tea", user_script="...")


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
    script = offline_script("tea", 120, 6.0)  # a very fast voice: more words than it has
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


# -- per-sentence search terms and visual prompts ---------------------------------------------
def test_model_scenes_are_cleaned():
    scenes = [
        {
            "search_terms": ["  Octopus  HEART!", "octopus heart", "reef", "sea", "fish"],
            "visual_prompt": "  An octopus,\n vertical photo ",
        }
    ] + GOOD_SCRIPT["scenes"][1:]
    with FakeOpenAI(script=dict(GOOD_SCRIPT, scenes=scenes)) as server:
        script = generator(server).generate_script("octopus hearts")
    assert script.search_terms[0] == ["octopus heart", "reef", "sea"]
    assert script.visual_prompts[0] == "An octopus, vertical photo"
    assert len(script.search_terms) == len(script.visual_prompts) == len(script.sentences)


@pytest.mark.parametrize("scenes", [GOOD_SCRIPT["scenes"][:3], None])
def test_scenes_that_do_not_match_the_sentences_are_derived_and_noted(scenes):
    reply = (
        dict(GOOD_SCRIPT, scenes=scenes)
        if scenes
        else {k: v for k, v in GOOD_SCRIPT.items() if k != "scenes"}
    )  # a server that ignored them
    with FakeOpenAI(script=reply) as server:
        script = generator(server).generate_script("octopus hearts", tone="calm")
    assert len(server.requests) == 1  # not worth asking again
    count = len(scenes or [])
    assert script.note == (
        f"the model described {count} scenes for 5 sentences; search terms "
        "and visual prompts were derived from the sentences"
    )
    assert len(script.search_terms) == len(script.visual_prompts) == 5
    # the sentence's own words first (the longest), then the topic
    assert script.search_terms[1] == ["oxygen", "blood", "octopus hearts"]
    assert script.visual_prompts[1] == (
        "octopus hearts: Two of them push blood through the "
        "gills, where it picks up fresh oxygen, soft light, calm "
        "mood, vertical photo"
    )


def test_blank_scenes_are_derived_one_by_one():
    scenes = [dict(GOOD_SCRIPT["scenes"][0], search_terms=["!!"], visual_prompt=" ")] + GOOD_SCRIPT[
        "scenes"
    ][1:]
    with FakeOpenAI(script=dict(GOOD_SCRIPT, scenes=scenes)) as server:
        script = generator(server).generate_script("octopus hearts")
    assert script.search_terms[0] and script.search_terms[0] != ["!!"]
    assert script.visual_prompts[0].endswith("natural light, documentary style, vertical photo")
    assert script.visual_prompts[1:] == [s["visual_prompt"] for s in GOOD_SCRIPT["scenes"][1:]]
    assert script.note == ""


@pytest.mark.parametrize("seconds", [15, 60, 120])
def test_offline_scenes(seconds):
    script = offline_script("why octopuses have three hearts", seconds, tone="dramatic")
    n = len(script.sentences)
    assert len(script.search_terms) == len(script.visual_prompts) == n
    assert all(terms and terms[0] == "octopuses hearts" for terms in script.search_terms)
    assert all(
        p.startswith("octopuses hearts, ")
        and p.endswith(", cinematic lighting, dramatic mood, vertical photo")
        for p in script.visual_prompts
    )
    assert len(set(script.visual_prompts)) == n  # one picture per sentence, none twice


def test_user_scripts_get_scenes_from_their_sentences():
    gen = ContentGenerator(settings=OFFLINE)
    script = gen.generate_script(
        "tea", tone="serious", user_script="Tea came from China. Tea is drunk everywhere."
    )
    assert script.search_terms[0] == ["china", "tea"]
    assert script.visual_prompts == [
        "Tea came from China, muted colours, documentary style, vertical photo",
        "Tea is drunk everywhere, muted colours, documentary style, vertical photo",
    ]
    assert script.search_terms[1] == ["drunk", "tea"]
    untitled = gen.generate_script("", user_script="Volcanoes erupt when magma rises.")
    assert untitled.search_terms[0] == [
        "volcanoes erupt magma",
        "volcanoes",
    ]  # the title is the topic


def test_an_unknown_tone_is_the_pictures_mood():
    script = offline_script("tea", tone="Cozy autumn")
    assert all(p.endswith(", cozy autumn mood, vertical photo") for p in script.visual_prompts)
