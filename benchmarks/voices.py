"""Offline voices side by side, and how close a video comes to the length asked.

1. Real-time factor (seconds of compute per second of audio; lower is
   faster) of each offline engine, piper and espeak, on the same English
   sentences spoken one by one as a narration does, word timings included.
   The model load is excluded (a warm-up call first); median of 3 runs.
2. Length error: for 15, 30, 60 and 90 s, the offline script writer asked
   for that length with the voice's measured pace
   (``ContentGenerator(settings).generate_script(topic, target_seconds=L,
   words_per_second=words_per_second("piper", 1.0, "en", settings))``),
   spoken by piper;
   the video's length is the speech plus the pauses the video adds
   (LEAD_IN 0.4 s, GAP 0.3 s between sentences, TAIL 0.8 s). Error =
   |length - L| / L. No render: the pauses are fixed, so this is the
   video's length without the minutes of encoding.

    python benchmarks/voices.py

Last line: max_length_error=<x> piper_rtf=<y> espeak_rtf=<z>
(max_length_error is "n/a" while the writer has no words_per_second).
"""

from __future__ import annotations

import inspect
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.core.pauses import GAP, LEAD_IN, TAIL  # noqa: E402
from reelsmith.core.settings import Settings  # noqa: E402
from reelsmith.voice.synthesizer import SpeechSynthesizer, words_per_second  # noqa: E402

SENTENCES = [
    "Octopuses have three hearts, and each one has a different job.",
    "Two of them pump blood through the gills to pick up oxygen.",
    "The third heart sends that blood around the rest of the body.",
    "When an octopus swims, that main heart actually stops beating.",
    "That is one reason octopuses prefer crawling to swimming.",
    "Their blood is blue, because it carries oxygen with copper.",
]
LENGTHS = (15, 30, 60, 90)
TOPICS = (
    "why octopuses have three hearts",
    "how bees talk by dancing",
    "the water cycle",
    "why the sky is blue",
)
RUNS = 3


def rtf(engine: str) -> tuple[float, float, float]:
    """(median real-time factor, median CPU seconds per audio second, seconds
    of audio) of ``engine``. The CPU figure (all threads) moves less when
    other work shares the cores."""
    synth = SpeechSynthesizer(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        synth.narrate(SENTENCES[:1], Path(tmp) / "warm", voice=engine)  # loads the model
        factors, cpu, audio = [], [], 0.0
        for run in range(RUNS):
            start, start_cpu = time.perf_counter(), time.process_time()
            narration = synth.narrate(SENTENCES, Path(tmp) / f"run{run}", voice=engine)
            factors.append((time.perf_counter() - start) / narration.duration)
            cpu.append((time.process_time() - start_cpu) / narration.duration)
            audio = narration.duration
    return statistics.median(factors), statistics.median(cpu), audio


def length_errors() -> list[tuple[int, int, int, float, float]] | None:
    """(asked, sentences, words, video seconds, error) per length; None when
    the writer cannot take a pace yet."""
    from content_generator import ContentGenerator

    if "words_per_second" not in inspect.signature(ContentGenerator.generate_script).parameters:
        return None
    settings = Settings.build(openai_api_key=None)
    writer = ContentGenerator(settings=settings)
    synth = SpeechSynthesizer(settings)
    pace = words_per_second("piper", 1.0, "en", settings)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for asked, topic in zip(LENGTHS, TOPICS):
            script = writer.generate_script(
                topic, target_seconds=asked, words_per_second=pace, fresh=True
            )
            narration = synth.narrate(script.sentences, Path(tmp) / str(asked), voice="piper")
            n = len(narration.segments)
            video = LEAD_IN + narration.duration + GAP * (n - 1) + TAIL
            words = sum(len(s.split()) for s in script.sentences)
            rows.append((asked, n, words, video, abs(video - asked) / asked))
    return rows


def main() -> None:
    settings = Settings.from_env()
    piper, espeak = (words_per_second(v, 1.0, "en", settings) for v in ("piper", "espeak"))
    print(f"pace: piper {piper:.2f} words/s, espeak {espeak:.2f} words/s (English, speed 1)")
    print(
        "| engine | real-time factor (median of 3) | x faster than real time | CPU s per audio s | audio s |"
    )
    print("|---|---|---|---|---|")
    factors = {}
    for engine in ("piper", "espeak"):
        factor, cpu, audio = rtf(engine)
        factors[engine] = factor
        print(f"| {engine} | {factor:.4f} | {1 / factor:.0f}x | {cpu:.4f} | {audio:.1f} |")
    rows = length_errors()
    if rows is None:
        print("length error: not yet measurable (generate_script has no words_per_second)")
        worst = "n/a"
    else:
        print("\n| asked s | sentences | words | video s | error |")
        print("|---|---|---|---|---|")
        for asked, n, words, video, error in rows:
            print(f"| {asked} | {n} | {words} | {video:.1f} | {error:.1%} |")
        worst = f"{max(r[4] for r in rows):.3f}"
    print(
        f"max_length_error={worst} piper_rtf={factors['piper']:.4f} "
        f"espeak_rtf={factors['espeak']:.4f}"
    )


if __name__ == "__main__":
    main()
