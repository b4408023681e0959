"""Local LLM discovery: the real probe and the real openai SDK against the
FakeOpenAI of tests/servers.py on a free loopback port, standing in for
Ollama or LM Studio (it lists models at GET /v1/models as they do)."""

from __future__ import annotations

import logging
import socket

import pytest

from content_generator import ContentGenerator
from reelsmith.core.settings import Settings
from reelsmith.script import local_llm
from tests.helpers.servers import GOOD_SCRIPT, FakeOpenAI


@pytest.fixture(autouse=True)
def fresh_discovery():
    """Each test starts with nothing known (the answer is cached per process)."""
    local_llm.reset()
    yield
    local_llm.reset()


def closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings(ollama: str | None = None, lmstudio: str | None = None, **kw) -> Settings:
    """Settings whose local servers are the given addresses (a closed loopback port otherwise)."""
    return Settings.build(
        ollama_host=ollama or f"127.0.0.1:{closed_port()}",
        lmstudio_url=lmstudio or f"http://127.0.0.1:{closed_port()}",
        openai_max_retries=0,
        **kw,
    )


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket connects to or a name looked up, in this test
    (on top of conftest's guard, which still refuses anything not loopback)."""
    seen: list = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def recording_connect(sock, address):
        seen.append(address)
        return connect(sock, address)

    def recording_getaddrinfo(host, *args, **kwargs):
        seen.append(host)
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    return seen


def test_ollama_found_lists_models_and_writes_the_script(caplog):
    caplog.set_level(logging.INFO, logger="reelsmith.script.local_llm")
    with FakeOpenAI(models=["llama3.2:latest", "qwen2.5:7b"]) as server:
        config = settings(ollama=server.url.removeprefix("http://"))  # as Ollama spells it
        gen = ContentGenerator(settings=config)
        assert server.model_lists == 1  # probed at start-up
        status = gen.writer_status()
        script = gen.generate_script("octopus hearts")
        again = ContentGenerator(settings=config)
    assert status == {
        "writer": "ollama",
        "model": "llama3.2:latest",
        "base_url": f"{server.url}/v1",
        "discovered": True,
    }
    assert gen.mode == "ollama" and gen.base_url == f"{server.url}/v1"
    assert script.source == "ollama" and script.sentences == GOOD_SCRIPT["sentences"]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "llama3.2:latest"
    assert request["body"]["response_format"]["type"] == "json_schema"
    assert again.mode == "ollama"
    assert server.model_lists == 1  # the answer is kept for the process
    assert f"using ollama at {server.url}/v1" in caplog.text


def test_openai_model_picks_among_the_listed_models():
    with FakeOpenAI(models=["llama3.2:latest", "qwen2.5:latest"]) as server:
        gen = ContentGenerator(settings=settings(ollama=server.url, openai_model="qwen2.5"))
        assert gen.writer_status()["model"] == "qwen2.5:latest"
        gen.generate_script("tea")
        unknown = ContentGenerator(settings=settings(ollama=server.url, openai_model="gpt-4o-mini"))
        assert unknown.writer_status()["model"] == "llama3.2:latest"  # not there: the first one
    assert server.requests[0]["body"]["model"] == "qwen2.5:latest"


def test_lm_studio_when_ollama_is_not_running():
    with FakeOpenAI(models=["lmstudio-community/gemma-3-4b"]) as server:
        gen = ContentGenerator(settings=settings(lmstudio=server.url))
        script = gen.generate_script("tea")
    assert gen.writer_status()["writer"] == "lmstudio"
    assert script.source == "lmstudio"
    assert server.requests[0]["body"]["model"] == "lmstudio-community/gemma-3-4b"


def test_nothing_running_leaves_the_offline_writer_with_a_hint():
    gen = ContentGenerator(settings=settings())
    status = gen.writer_status()
    assert status["writer"] == "offline" and gen.mode == "offline"
    assert "ollama pull" in status["hint"] and "LM Studio" in status["hint"]
    assert [r.split(":")[0] for r in status["reasons"]] == ["ollama", "lmstudio"]
    assert "nothing answered at http://127.0.0.1:" in status["reasons"][0]
    assert gen.generate_script("tea").source == "offline"


def test_a_server_without_models_is_not_used():
    with FakeOpenAI(models=[]) as server:
        status = ContentGenerator(settings=settings(ollama=server.url)).writer_status()
    assert status["writer"] == "offline"
    assert (
        status["reasons"][0] == f"ollama at {server.url} has no models (run `ollama pull llama3.2`)"
    )


def test_a_failed_probe_is_repeated_only_after_a_while():
    with FakeOpenAI(models=[]) as server:
        config = settings(ollama=server.url)
        assert local_llm.discover(config, now=1000.0).server is None
        server.models = ["llama3.2:latest"]
        assert local_llm.discover(config, now=1010.0).server is None  # cached: no new probe
        assert server.model_lists == 1
        found = local_llm.discover(config, now=1000.0 + local_llm.RETRY_SECONDS + 1)
    assert found.server is not None and found.server.models == ("llama3.2:latest",)
    assert server.model_lists == 2


def test_a_server_that_goes_away_falls_back_to_offline_and_says_so():
    with FakeOpenAI(models=["llama3.2:latest"]) as server:
        config = settings(ollama=server.url)
        gen = ContentGenerator(settings=config)
        assert gen.mode == "ollama"
    script = gen.generate_script("tea")
    assert script.source == "offline"
    assert script.note.startswith(
        f"could not connect to the script server at {server.url}/v1; used the offline writer"
    )
    assert gen.writer_status()["writer"] == "offline"  # forgotten, probed again: nothing there


def test_a_configured_server_is_used_without_probing():
    with FakeOpenAI(models=["llama3.2:latest"]) as server:
        config = settings(ollama=server.url)
        keyed = ContentGenerator(
            settings=config.with_(openai_api_key="sk-x", openai_base_url=server.base_url)
        )
        url_only = ContentGenerator(settings=config.with_(openai_base_url=server.base_url))
        script = url_only.generate_script("tea")
        assert server.model_lists == 0
    assert keyed.writer_status() == {
        "writer": "openai",
        "model": "gpt-4o-mini",
        "base_url": server.base_url,
        "discovered": False,
    }
    assert url_only.mode == "openai" and script.source == "openai"  # a base URL needs no key
    assert server.requests[0]["authorization"] == "Bearer none"


def test_discovery_can_be_turned_off():
    with FakeOpenAI(models=["llama3.2:latest"]) as server:
        gen = ContentGenerator(settings=settings(ollama=server.url, discover_local_llm=False))
        status = gen.writer_status()
        assert server.model_lists == 0
    assert status["writer"] == "offline" and "DISCOVER_LOCAL_LLM is off" in status["reasons"][0]
    assert Settings.from_env({"DISCOVER_LOCAL_LLM": "0"}).script.discover_local_llm is False


@pytest.mark.parametrize(
    "host",
    [
        "192.168.1.20:11434",
        "http://10.0.0.5:11434",
        "gpu-box:11434",
        "ollama.example.com",
        "8.8.8.8",
        "http://[2001:db8::1]:11434",
    ],
)
def test_a_host_not_on_this_machine_is_refused_without_a_connection(host, connections, caplog):
    caplog.set_level(logging.WARNING, logger="reelsmith.script.local_llm")
    with FakeOpenAI(models=["llama3.2:latest"]) as lmstudio:
        gen = ContentGenerator(settings=settings(ollama=host, lmstudio=lmstudio.url))
        status = gen.writer_status()
    assert status["writer"] == "lmstudio"  # the next server on loopback is still found
    hosts = {a[0] if isinstance(a, tuple) else a for a in connections}
    assert hosts == {"127.0.0.1"}  # nothing else looked up or connected to
    assert f"OLLAMA_HOST={host!r} was not probed" in caplog.text
    assert "stays on this machine" in caplog.text


def test_the_refusal_is_given_as_a_reason_offline():
    status = ContentGenerator(settings=settings(ollama="10.1.2.3:11434")).writer_status()
    assert status["writer"] == "offline"
    assert status["reasons"][0].startswith(
        "OLLAMA_HOST='10.1.2.3:11434' was not probed: 10.1.2.3 is not a loopback address"
    )


@pytest.mark.parametrize(
    "raw, url",
    [
        ("127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("localhost", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),  # Ollama's "listen everywhere"
        ("http://localhost:1234/v1", "http://127.0.0.1:1234"),
        ("https://127.0.0.2:8443", "https://127.0.0.2:8443"),
        ("[::1]:11434", "http://[::1]:11434"),
        ("  127.0.0.1  ", "http://127.0.0.1:11434"),
    ],
)
def test_loopback_addresses(raw, url):
    assert local_llm.loopback_url(raw, 11434) == url


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "it is empty"),
        ("ftp://127.0.0.1", "the scheme 'ftp' is not http"),
        ("127.0.0.1:99999", "the port"),
        ("example.com:11434", "host names other than localhost"),
        ("169.254.1.1", "169.254.1.1 is not a loopback address"),
    ],
)
def test_addresses_refused(raw, reason):
    with pytest.raises(ValueError, match=reason):
        local_llm.loopback_url(raw, 11434)


def test_proxies_in_the_environment_are_not_used(monkeypatch):
    """A proxy would carry the probe (and the script) off this machine; the
    conftest guard fails the test if anything tries to reach it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with FakeOpenAI(models=["llama3.2:latest"]) as server:
        gen = ContentGenerator(settings=settings(ollama=server.url))
        script = gen.generate_script("tea")
    assert script.source == "ollama" and len(server.requests) == 1
