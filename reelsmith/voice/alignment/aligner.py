"""Forced alignment of one spoken sentence against espeak-ng's rendering of
its text.

espeak-ng speaks the sentence (about 100 languages, offline) and says when
each word starts; dynamic time warping over speaker-robust features
(``features.py``, librosa's ``sequence.dtw``) maps espeak's time axis onto
the recording's, and with it every word start. The reference is cut to its
sound and matched whole against any stretch of the clip (subsequence DTW),
so silence and breaths at either end of the clip cost nothing.

The path's mean cost per step says how well the two agree: a clip that says
other words than the text costs far more than any voice saying the same
words (``MISMATCH_COST``; ``benchmarks/align.py`` prints both)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelsmith.core.exceptions import AlignmentFailed
from reelsmith.core.languages import for_engine
from reelsmith.voice.alignment.features import FRAME_SECONDS, features
from reelsmith.voice.espeak_lib import ESPEAK_DEFAULT_RATE
from reelsmith.voice.words import Mark, speakable

STEPS = {
    "step_sizes_sigma": np.array([[1, 1], [1, 2], [2, 1]]),
    "weights_mul": np.array([1.0, 1.0, 2.0]),
}
# Mean cosine distance per reference frame. Piper saying the text: median
# 0.44, at most 0.55 over benchmarks/align.py; Piper saying another sentence
# of about the same length: median 0.61, at least 0.53. One sentence can sit
# in between, so a recording is judged by the median over its sentences (a
# lone sentence of a voice, with a wider margin: ``LONE_MARGIN``).
MISMATCH_COST = 0.52
LONE_MARGIN = 1.15
# espeak-ng's word events come about this early against the sound
# (benchmarks/align.py: the median signed error without it was -38 ms).
ESPEAK_EVENT_LEAD = 0.035
PACE_MATCHED = 0.1  # espeak is spoken again at the clip's pace when further off than this
MIN_RATE, MAX_RATE = 80, 450  # espeak-ng's rates, words per minute


@dataclass(frozen=True)
class Reference:
    """espeak-ng saying a sentence: its features cut to the sound, and each
    word's start as (character position, seconds into ``feats``)."""

    feats: np.ndarray
    starts: list[tuple[int, float]]
    seconds: float


@dataclass(frozen=True)
class Aligned:
    marks: list[Mark]  # word starts in the clip (ends: the next start)
    cost: float  # mean cost per path step
    begin: float  # where the sentence's sound starts and ends in the clip
    end: float


def espeak_reference(text: str, language: str, rate: int = ESPEAK_DEFAULT_RATE) -> Reference:
    from reelsmith.voice.engines.espeak import ESPEAK

    espeak = ESPEAK.get()
    tag = for_engine("espeak", language, espeak.languages)
    if tag is None:
        raise AlignmentFailed(f"espeak-ng does not speak {language!r}, so it cannot align it")
    pcm, events = espeak.speak(speakable(text), tag, rate)
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    begin, end = sound_bounds(samples, espeak.sample_rate)
    feats = features(
        samples[int(begin * espeak.sample_rate) : int(end * espeak.sample_rate)], espeak.sample_rate
    )
    starts = [(pos - 1, max(0.0, ms / 1000 + ESPEAK_EVENT_LEAD - begin)) for pos, ms in events]
    return Reference(feats=feats, starts=starts, seconds=end - begin)


def sound_bounds(samples: np.ndarray, rate: int, floor_db: float = -35.0) -> tuple[float, float]:
    loud = loud_frames(samples, rate, floor_db)
    if not loud.any():
        return 0.0, len(samples) / rate
    index = np.flatnonzero(loud)
    return float(index[0] * FRAME_SECONDS), float(
        min(len(samples) / rate, (index[-1] + 1) * FRAME_SECONDS)
    )


def loud_frames(samples: np.ndarray, rate: int, floor_db: float = -35.0) -> np.ndarray:
    """One bool per 10 ms: is there sound (RMS within ``floor_db`` of the
    loud frames, the 95th percentile, so one click sets no scale)."""
    hop = round(rate * FRAME_SECONDS)
    n = len(samples) // hop
    if n == 0:
        return np.zeros(0, dtype=bool)
    rms = np.sqrt(np.mean(samples[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))
    return rms >= max(np.percentile(rms, 95) * 10 ** (floor_db / 20), 1e-4)


def dtw_path(ref: np.ndarray, rec: np.ndarray, subseq: bool = True) -> tuple[np.ndarray, float]:
    """The warping path (ref frame, rec frame) in order and its mean step cost."""
    import librosa

    if subseq and len(rec) <= len(ref):  # librosa would swap the roles: pad the recording
        rec = np.vstack([rec, np.repeat(rec[-1:], len(ref) - len(rec) + 1, axis=0)])
    cost, path = librosa.sequence.dtw(X=ref.T, Y=rec.T, metric="cosine", subseq=subseq, **STEPS)
    path = path[::-1]
    return path, float(cost[path[-1][0], path[-1][1]] / len(ref))  # per reference frame


def map_times(path: np.ndarray, times: list[float]) -> list[float]:
    """Reference seconds -> recording seconds along ``path``: the first
    recording frame matched to the reference frame."""
    first = np.full(int(path[:, 0].max()) + 1, -1, dtype=np.int64)
    for r, c in path:
        if first[r] < 0:
            first[r] = c
    known = np.flatnonzero(first >= 0)  # frames a slope-2 step jumped over: interpolated
    frames = np.clip(np.asarray(times) / FRAME_SECONDS, 0, len(first) - 1)
    return [float(x) * FRAME_SECONDS for x in np.interp(frames, known, first[known])]


def align_clip(text: str, language: str, samples: np.ndarray, rate: int) -> Aligned:
    """Word starts of ``text`` in one sentence's recording."""
    ref = espeak_reference(text, language)
    if not ref.starts or len(ref.feats) < 2:
        raise AlignmentFailed(f"espeak-ng has nothing to say for {text!r}")
    begin, end = sound_bounds(samples, rate)
    pace = ref.seconds / max(end - begin, FRAME_SECONDS)  # espeak's length over the clip's
    if abs(pace - 1.0) > PACE_MATCHED:  # espeak again at the clip's pace: slopes near 1
        words_per_minute = round(ESPEAK_DEFAULT_RATE * pace)
        ref = espeak_reference(text, language, min(MAX_RATE, max(MIN_RATE, words_per_minute)))
    rec = features(samples, rate)
    path, cost = dtw_path(ref.feats, rec)
    starts = map_times(path, [t for _, t in ref.starts])
    marks: list[Mark] = [(pos, t, None) for (pos, _), t in zip(ref.starts, starts)]
    begin = float(path[0][1] * FRAME_SECONDS)
    end = float(min(len(samples) / rate, (path[-1][1] + 1) * FRAME_SECONDS))
    return Aligned(marks=marks, cost=cost, begin=begin, end=end)


def warm_up() -> None:
    """Load librosa and compile its numba code now (a few seconds, once per
    process) rather than in the middle of a narration."""
    tone = np.sin(np.arange(4410, dtype=np.float32) * 0.1)
    feats = features(tone, 22050)
    dtw_path(feats[:5], feats)
