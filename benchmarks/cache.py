"""Does the disk cache take the LLM and the voice engine out of a repeat run?

One run: 50 distinct topics go through a real ContentGenerator (against the
plain-HTTP FakeOpenAI from tests/servers.py, which here writes sentences that
name the topic, so no two requests share a voice clip) and a real
SpeechSynthesizer (engine "espeak", offline), both on one Cache in a temp
dir: generate_script, then narrate its sentences. The whole thing runs
twice; the second pass should be served entirely from the cache. Then raw
``Cache.get`` is timed on keys known to be present, and ``Cache.set`` on a
fresh cache that already holds 10,000 entries (with the app's default size
bound, 500 MB, so the size check runs on every write; the goal is a p99
under 2 ms, whatever the number of entries).

    python benchmarks/cache.py

Last line: llm_calls_second_pass=<n> tts_calls_second_pass=<n> hit_ms_p50=<ms per Cache.get hit>
set_p99_ms=<ms per Cache.set at 10,000 entries, 99th percentile>
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cache import Cache  # noqa: E402
from content_generator import ContentGenerator  # noqa: E402
from reelsmith.core.settings import Settings  # noqa: E402
from reelsmith.voice.synthesizer import SpeechSynthesizer  # noqa: E402
from tests.helpers.servers import FakeOpenAI  # noqa: E402

TOPICS = [f"benchmark topic number {i}" for i in range(50)]
GETS = 1000
SET_ENTRIES = 10_000  # entries already in the cache when sets are timed
SETS = 2000  # timed sets (new keys)
SET_VALUE = b"v" * 2048


class TopicOpenAI(FakeOpenAI):
    """FakeOpenAI whose script is about the topic of the request being answered
    (requests are sequential, so that is the last one recorded)."""

    @property
    def script(self) -> dict:
        prompt = self.requests[-1]["body"]["messages"][1]["content"]
        topic = prompt.splitlines()[0].removeprefix("Topic: ")
        return {
            "title": topic.title(),
            "sentences": [f"Fact {n} about {topic}." for n in range(1, 5)]
            + [f"Follow for more on {topic}."],
            "description": f"All about {topic}.",
            "hashtags": ["bench"],
        }

    @script.setter
    def script(self, value) -> None:  # FakeOpenAI.__init__ assigns one; ignored
        pass


def one_pass(gen, synth, work: Path) -> tuple[int, int, float]:
    """(LLM calls, TTS engine calls, seconds) for all topics."""
    calls, engine_calls = gen.calls, synth.engine_calls
    start = time.perf_counter()
    for i, topic in enumerate(TOPICS):
        script = gen.generate_script(topic)
        synth.narrate(script.sentences, work / f"req_{i:02d}", voice="espeak")
    return gen.calls - calls, synth.engine_calls - engine_calls, time.perf_counter() - start


def time_gets(cache: Cache, keys: list[str]) -> list[float]:
    """Milliseconds per Cache.get over GETS hits, cycling through keys."""
    times = []
    for n in range(GETS):
        key = keys[n % len(keys)]
        start = time.perf_counter()
        value = cache.get(key)
        times.append((time.perf_counter() - start) * 1000)
        assert value is not None, "expected a hit"
    return times


def time_sets(cache_dir: Path) -> list[float]:
    """Milliseconds per Cache.set of a new key, with SET_ENTRIES entries present."""
    cache = Cache(cache_dir)  # default bound: 500 MB
    for n in range(SET_ENTRIES):
        cache.set(f"fill {n}", SET_VALUE)
    assert len(cache) == SET_ENTRIES
    times = []
    for n in range(SETS):
        start = time.perf_counter()
        cache.set(f"timed {n}", SET_VALUE)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="reelsmith-cache-bench-") as tmp,
        TopicOpenAI() as server,
    ):
        cache = Cache(Path(tmp) / "cache", max_size_mb=None)
        settings = Settings()
        gen = ContentGenerator(
            api_key="bench",
            base_url=server.base_url,
            cache=cache,
            settings=settings,
            max_retries=0,
            timeout=10.0,
        )
        synth = SpeechSynthesizer(settings, cache)
        first = one_pass(gen, synth, Path(tmp) / "pass1")
        second = one_pass(gen, synth, Path(tmp) / "pass2")

        # The keys generate_script and narrate stored their results under.
        script_keys = [gen.cache_key(t) for t in TOPICS]
        sentences = [s for t in TOPICS for s in gen.generate_script(t).sentences]
        voice = synth.engines["espeak"].voice_for("en")  # the voice narrate picks for "en"
        tts_keys = [synth.cache_key("espeak", s, "en", voice) for s in sentences]
        script_ms = time_gets(cache, script_keys)
        tts_ms = time_gets(cache, tts_keys)
        set_ms = time_sets(Path(tmp) / "sets")

    print("| pass | requests | llm calls | tts calls | total s | ms/request |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (llm, tts, secs) in (("first (cold)", first), ("second (cached)", second)):
        print(
            f"| {name} | {len(TOPICS)} | {llm} | {tts} | {secs:.3f} | "
            f"{secs / len(TOPICS) * 1000:.2f} |"
        )
    print()
    print("| Cache.get hit | gets | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name, ms in (("script (dict)", script_ms), ("voice clip (WAV bytes)", tts_ms)):
        p95 = statistics.quantiles(ms, n=20)[-1]
        print(f"| {name} | {len(ms)} | {statistics.median(ms):.3f} | {p95:.3f} |")
    print()
    set_p99 = statistics.quantiles(set_ms, n=100)[-1]
    print(
        "| Cache.set, new key, 2 KB | entries already | sets | p50 ms | p99 ms | max ms "
        "| load avg (1 min) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| with the size bound | {SET_ENTRIES} | {len(set_ms)} | "
        f"{statistics.median(set_ms):.3f} | {set_p99:.3f} | {max(set_ms):.3f} "
        f"| {os.getloadavg()[0]:.2f} |"
    )
    print(
        f"llm_calls_second_pass={second[0]} tts_calls_second_pass={second[1]} "
        f"hit_ms_p50={statistics.median(script_ms):.3f} set_p99_ms={set_p99:.3f}"
    )


if __name__ == "__main__":
    main()
