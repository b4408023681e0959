"""The performance features do what they claim (behaviour, never timings).

Timing claims live in benchmarks/ and PERFORMANCE_OPTIMIZATION.md.
"""

import threading

from cache import Cache
from content_generator import ContentGenerator
from pipeline import Pipeline
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.request import CreateRequest
from tests.helpers.media import probe
from tests.helpers.servers import FakeOpenAI

KEY = "sk-test-perf"


def llm_settings(server, tmp_path, **kw) -> Settings:
    return Settings.build(
        openai_api_key=KEY,
        openai_base_url=server.base_url,
        openai_max_retries=0,
        data_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        render=RenderSettings(width=180, height=320, preset="veryfast"),
        **kw,
    )


def test_pooled_client_is_one_object_across_instances_and_threads():
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(ContentGenerator._get_http_client()))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1
    with FakeOpenAI() as server:
        a = ContentGenerator(
            settings=Settings.build(openai_api_key=KEY, openai_base_url=server.base_url)
        )
        b = ContentGenerator(
            settings=Settings.build(openai_api_key=KEY, openai_base_url=server.base_url)
        )
        assert a.client._client is b.client._client is ContentGenerator._get_http_client()
    pool = ContentGenerator._get_http_client()._transport._pool
    assert pool._max_connections == 20 and pool._max_keepalive_connections == 10


def test_pooled_calls_reuse_one_connection():
    with FakeOpenAI() as server:
        gen = ContentGenerator(
            settings=Settings.build(openai_api_key=KEY, openai_base_url=server.base_url)
        )
        for i in range(10):
            gen.generate_script(f"topic {i}")
    assert len(server.requests) == 10
    assert server.connections == 1


def test_a_repeat_request_calls_neither_the_llm_nor_the_voice(tmp_path):
    with FakeOpenAI() as server:
        pipeline = Pipeline(llm_settings(server, tmp_path))
        # 25 s at espeak's pace is a ~74-word budget: the fake's 70-word script fits
        # it, so the first request is one LLM call (a miss would be asked again).
        request = CreateRequest(topic="octopus hearts", voice="espeak", length=25)
        first = pipeline.run(request, tmp_path / "one.mp4")
        llm_calls, tts_calls = pipeline.generator.calls, pipeline.synthesizer.engine_calls
        second = pipeline.run(request, tmp_path / "two.mp4")
    assert llm_calls == 1 and tts_calls == len(first["sentences"]) == 5
    assert pipeline.generator.calls == llm_calls  # no second LLM call
    assert pipeline.synthesizer.engine_calls == tts_calls  # no second TTS call
    assert len(server.requests) == 1
    assert first["sentences"] == second["sentences"]
    assert probe(tmp_path / "two.mp4").duration == probe(tmp_path / "one.mp4").duration


def test_eviction_keeps_the_cache_under_its_limit(tmp_path):
    cache = Cache(tmp_path, max_size_mb=0.5)
    for i in range(100):
        cache.set(f"clip {i}", b"\x00" * 40_000)
    assert cache.get_size() <= 0.5 * 1024 * 1024
    assert cache.get("clip 99") is not None


def test_batch_renders_n_videos(tmp_path):
    from pipeline import Pipeline
    from reelsmith.request import CreateRequest

    settings = Settings.build(
        render=RenderSettings(width=180, height=320, preset="veryfast"),
        cache_dir=tmp_path / "cache",
    )
    requests = [CreateRequest(topic=t) for t in ["tea", "bees", "rain"]]
    results = Pipeline(settings).run_batch(requests, tmp_path / "out", max_workers=2)
    assert [r["title"] for r in results] and all(isinstance(r, dict) for r in results)
    assert all(probe(tmp_path / "out" / f"{i:03d}.mp4").width == 180 for i in (1, 2, 3))


def test_create_returns_before_the_render_starts(tmp_path):
    from app import create_app

    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def runner(task, report):
        started.set()
        release.wait(10)  # a synchronous create would block here for 10 s, then finish
        finished.set()
        return {}

    app = create_app(
        {"SETTINGS": Settings.build(data_dir=tmp_path, cache_dir=tmp_path / "c"), "RUNNER": runner}
    )
    try:
        resp = app.test_client().post("/api/create", json={"topic": "t"})
        assert resp.status_code == 202
        assert resp.get_json()["task_id"]
        assert not finished.is_set()  # the answer came while the render was held back
        assert started.wait(5)
        assert (
            app.test_client().get(resp.get_json()["status_url"]).get_json()["status"] == "running"
        )
    finally:
        release.set()
        app.extensions["reelsmith"].shutdown(5)
