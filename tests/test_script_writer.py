"""ContentGenerator with the real openai SDK against a local OpenAI-compatible server."""
import pytest

from cache import Cache
from config import Settings
from content_generator import ContentGenerator, Script, offline_script, split_sentences
from exceptions import ScriptError
from tests.servers import GOOD_SCRIPT, FakeOpenAI

KEY = "sk-test-secret-key-123"


def generator(server, **kwargs) -> ContentGenerator:
    settings = Settings(openai_api_key=KEY, openai_base_url=server.base_url, openai_model="fake-model")
    kwargs.setdefault("max_retries", 0)
    return ContentGenerator(settings=settings, **kwargs)


def test_llm_script_with_structured_output():
    with FakeOpenAI() as server:
        script = generator(server).generate_script("octopus hearts", tone="playful", target_seconds=40)
    assert script.source == "openai"
    assert script.sentences == GOOD_SCRIPT["sentences"]
    assert script.hashtags == ["octopus", "ocean", "science"]
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["authorization"] == f"Bearer {KEY}"
    body = req["body"]
    assert body["model"] == "fake-model"
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {"title", "sentences", "description", "hashtags"}
    assert "octopus hearts" in body["messages"][1]["content"]
    assert "playful" in body["messages"][1]["content"]


def test_malformed_reply_is_retried_once():
    with FakeOpenAI(modes=["malformed", "ok"]) as server:
        script = generator(server).generate_script("t")
    assert script.source == "openai" and len(server.requests) == 2


def test_malformed_twice_fails_with_reason():
    with FakeOpenAI(mode="malformed") as server:
        with pytest.raises(ScriptError, match="not a valid script") as info:
            generator(server).generate_script("t")
    assert len(server.requests) == 2
    assert info.value.stage == "script"


def test_too_few_sentences_is_invalid():
    bad = dict(GOOD_SCRIPT, sentences=["Only one."])
    with FakeOpenAI(script=bad) as server:
        with pytest.raises(ScriptError, match="3 to 12 sentences"):
            generator(server).generate_script("t")


@pytest.mark.parametrize("mode, message", [
    ("401", "API key was rejected"),
    ("429", "rate limit or quota"),
    ("500", r"server failed \(HTTP 500\)"),
])
def test_http_errors_become_clear_messages(mode, message):
    with FakeOpenAI(mode=mode) as server:
        with pytest.raises(ScriptError, match=message) as info:
            generator(server).generate_script("t")
    assert KEY not in info.value.message


def test_slow_server_times_out():
    with FakeOpenAI(mode="slow", delay=5) as server:
        with pytest.raises(ScriptError, match="did not answer within 0.5 s"):
            generator(server, timeout=0.5).generate_script("t")


def test_unreachable_server():
    with FakeOpenAI() as server:
        url = server.base_url
    settings = Settings(openai_api_key=KEY, openai_base_url=url)
    with pytest.raises(ScriptError, match="could not connect"):
        ContentGenerator(settings=settings, max_retries=0).generate_script("t")


def test_cache_spares_the_second_call(tmp_path):
    cache = Cache(tmp_path)
    with FakeOpenAI() as server:
        gen = generator(server, cache=cache)
        first = gen.generate_script("octopus", tone="calm")
        second = gen.generate_script("octopus", tone="calm")
        assert first == second and gen.calls == 1 and len(server.requests) == 1
        gen.generate_script("octopus", tone="calm", fresh=True)
        assert len(server.requests) == 2
        gen.generate_script("octopus", tone="excited")  # a different option misses
        assert len(server.requests) == 3
        other_model = ContentGenerator(settings=Settings(openai_api_key=KEY, openai_base_url=server.base_url,
                                                         openai_model="other"), cache=cache)
        other_model.generate_script("octopus", tone="calm")
        assert len(server.requests) == 4


def test_offline_writer_without_a_key():
    gen = ContentGenerator(settings=Settings())
    assert gen.mode == "offline" and gen.client is None
    script = gen.generate_script("why octopuses have three hearts")
    assert script.source == "offline"
    assert 5 <= len(script.sentences) <= 8
    assert script.title == "Why Octopuses Have Three Hearts"
    assert "octopuses have three hearts" in " ".join(script.sentences)
    assert {"octopuses", "hearts"} <= set(script.hashtags)
    assert script == offline_script("why octopuses have three hearts")  # deterministic
    assert offline_script("how do bees make honey").sentences != script.sentences


def test_user_script_skips_the_llm():
    with FakeOpenAI() as server:
        gen = generator(server)
        script = gen.generate_script("tea", user_script="Tea is old.  It came from China!\nPeople love it")
    assert script.source == "user"
    assert script.sentences == ["Tea is old.", "It came from China!", "People love it"]
    assert server.requests == [] and gen.calls == 0


def test_empty_topic_is_an_error():
    with pytest.raises(ScriptError, match="topic is empty"):
        ContentGenerator(settings=Settings()).generate_script("   ")


def test_split_sentences_and_script_roundtrip():
    assert split_sentences("One. Two? Three!\n\nFour") == ["One.", "Two?", "Three!", "Four"]
    script = offline_script("tea")
    assert Script.from_dict(script.to_dict()) == script
