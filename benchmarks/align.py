"""How close forced alignment comes to a voice's own word timings.

Twenty English sentences are spoken by the Piper voice (the bundled joe),
at speed 1.0, 0.8 and 1.3. Piper's phoneme alignments
(``include_alignments=True``, through the engine's ``piper_marks``) are the
ground truth: each word's start. The same audio is then aligned against
espeak-ng's rendering of the text (``reelsmith.voice.alignment``), which
never saw Piper's timings, and each word's aligned start is compared with
Piper's. Words with nothing to say (none here) are left out.

align_rtf is alignment seconds (espeak reference, features, DTW, mapping)
per second of audio, after one warm-up call (librosa and numba load once per
process). Mismatch: each sentence is also aligned against the *next*
sentence's text, and the lowest such cost is printed beside the highest
matching cost, which is what ``MISMATCH_COST`` sits between.

    .venv/bin/python benchmarks/align.py

Last line: align_median_ms=<x> align_p90_ms=<y> align_rtf=<z>
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from voices import SENTENCES as VOICES_SENTENCES  # noqa: E402  (benchmarks/voices.py)

from reelsmith.core.settings import Settings  # noqa: E402
from reelsmith.voice.alignment.aligner import align_clip  # noqa: E402
from reelsmith.voice.alignment.features import read_wav  # noqa: E402
from reelsmith.voice.engines.piper import PiperEngine  # noqa: E402
from reelsmith.voice.words import speech_bounds, words_from_marks  # noqa: E402

SENTENCES = [
    *VOICES_SENTENCES,  # the voices benchmark's six
    "Honey bees tell each other where flowers are by dancing.",
    "A waggle dance points the way, measured against the sun.",
    "The longer the waggle lasts, the farther away the food is.",
    "Water falls as rain, runs into rivers, and flows to the sea.",
    "The sun warms the ocean, and some of it rises as vapour.",
    "High in the sky the vapour cools and gathers into clouds.",
    "Sunlight is made of every colour of the rainbow at once.",
    "Air scatters blue light far more than red or yellow light.",
    "So wherever you look, blue light reaches your eyes from the sky.",
    "At sunset the light crosses more air, and the sky turns orange.",
    "A single teaspoon of soil holds more living things than people on Earth.",
    "Some trees share sugar with their neighbours through fungi underground.",
    "The oldest known tree has been growing for nearly five thousand years.",
    "Lightning is five times hotter than the surface of the sun.",
]
SPEEDS = (1.0, 0.8, 1.3)


def main() -> None:
    engine = PiperEngine(Settings.from_env())
    errors: dict[float, list[float]] = {s: [] for s in SPEEDS}
    matched_costs: list[float] = []
    mismatched_costs: list[float] = []
    signed: list[float] = []
    align_seconds = audio_seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.wav"
        engine.synthesize(SENTENCES[0], "en", warm, voice=None, speed=1.0)
        samples, rate = read_wav(warm)
        align_clip(SENTENCES[0], "en", samples, rate)  # loads librosa, numba, espeak
        for speed in SPEEDS:
            for i, text in enumerate(SENTENCES):
                path = Path(tmp) / f"s{i}_{speed}.wav"
                marks = engine.synthesize(text, "en", path, voice=None, speed=speed)
                samples, rate = read_wav(path)
                duration = len(samples) / rate
                truth = words_from_marks(text, marks, duration, speech_bounds(path)[1])
                start = time.perf_counter()
                aligned = align_clip(text, "en", samples, rate)
                align_seconds += time.perf_counter() - start
                audio_seconds += duration
                got = words_from_marks(text, aligned.marks, duration, aligned.end)
                matched_costs.append(aligned.cost)
                for t, g in zip(truth, got):
                    errors[speed].append(abs(t.start - g.start) * 1000)
                    signed.append((g.start - t.start) * 1000)
                if speed == 1.0:
                    other = SENTENCES[(i + 1) % len(SENTENCES)]
                    mismatched_costs.append(align_clip(other, "en", samples, rate).cost)
    every = [e for s in SPEEDS for e in errors[s]]
    for speed in SPEEDS:
        e = errors[speed]
        print(
            f"speed {speed}: {len(e)} words, median {statistics.median(e):.0f} ms, "
            f"p90 {np.percentile(e, 90):.0f} ms, max {max(e):.0f} ms"
        )
    print(f"signed error (aligned - truth): median {statistics.median(signed):.0f} ms")
    print(
        f"cost: matching text max {max(matched_costs):.2f} (median "
        f"{statistics.median(matched_costs):.2f}); another sentence's text min "
        f"{min(mismatched_costs):.2f} (median {statistics.median(mismatched_costs):.2f})"
    )
    print(f"{audio_seconds:.1f} s of audio aligned in {align_seconds:.2f} s (2-core sandbox)")
    print(
        f"align_median_ms={statistics.median(every):.0f} "
        f"align_p90_ms={np.percentile(every, 90):.0f} "
        f"align_rtf={align_seconds / audio_seconds:.3f}"
    )


if __name__ == "__main__":
    main()
