"""ContentGenerator: the real openai SDK against the FakeOpenAI of
tests/servers.py, connection pooling, the cache and user scripts."""

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
from reelsmith.script.text import (
    Script,
    word_budget,
)
from tests.helpers.scripts import KEY, OFFLINE, generator
from tests.helpers.servers import GOOD_SCRIPT, FakeOpenAI


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
            "expected 3 to 120 sentences, got 1",
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
