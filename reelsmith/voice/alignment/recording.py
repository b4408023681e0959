"""A recording and its words: word timings for one sentence's clip (gTTS,
OpenAI-compatible voices), and a whole narration cut into sentences (an
uploaded recording).

A whole recording is first aligned coarsely against espeak-ng saying the
whole script (frames pooled so neither side has more than ``COARSE_FRAMES``),
which says roughly where each sentence ends; each boundary is then moved to
the nearest pause in the recording. Each sentence's clip is then aligned on
its own (``aligner.align_clip``), and the script fails plainly
(``ScriptMismatch``) when the median cost over its sentences is far above
what any voice saying those words costs."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelsmith.core.exceptions import AlignmentFailed, ScriptMismatch
from reelsmith.core.pauses import GAP
from reelsmith.voice.alignment.aligner import (
    LONE_MARGIN,
    MISMATCH_COST,
    align_clip,
    dtw_path,
    espeak_reference,
    loud_frames,
    map_times,
    sound_bounds,
)
from reelsmith.voice.alignment.features import FRAME_SECONDS, features, read_wav
from reelsmith.voice.engines.base import locate, wav_format, write_wav
from reelsmith.voice.engines.espeak import espeak_phoneme_counter
from reelsmith.voice.words import (
    Mark,
    WordTiming,
    estimate_marks,
    has_speech,
    speakable,
    speech_bounds,
    trim_to_sound,
    words_from_marks,
)

COARSE_FRAMES = 2500  # the most frames a side of the whole-script alignment has
SNAP_SECONDS = 0.8  # how far a sentence boundary moves to reach a pause
MIN_PAUSE = 0.12  # seconds of silence that count as a pause
LEAD, TRAIL = 0.1, 0.25  # sound kept around the speech at the recording's start and end
SILENT_SENTENCE = 0.4  # a sentence with nothing to say (only emoji)


@dataclass(frozen=True)
class SentenceClip:
    text: str
    path: Path
    duration: float
    words: list[WordTiming]
    cost: float | None  # None: nothing to align (no speech)
    offset: float = 0.0  # where the clip starts in the recording (seconds)


def clip_words(text: str, language: str, wav_path: Path) -> tuple[list[WordTiming], float]:
    """One sentence's word timings in its own WAV, and the alignment cost.
    AlignmentFailed when it cannot be aligned; ScriptMismatch when the clip
    says something else."""
    samples, rate = read_wav(wav_path)
    aligned = align_clip(text, language, samples, rate)
    if aligned.cost > MISMATCH_COST * LONE_MARGIN:
        raise ScriptMismatch(
            f"the audio does not say {text!r} (alignment cost {aligned.cost:.2f}, "
            f"normal is below {MISMATCH_COST:.2f})"
        )
    words = words_from_marks(text, aligned.marks, len(samples) / rate, aligned.end)
    return trim_to_sound(words, wav_path), aligned.cost


def timed_words(
    text: str, language: str, wav_path: Path, marks: list[Mark] | None
) -> tuple[list[WordTiming], str, str | None]:
    """A sentence's word timings in its WAV, how they were found and why an
    alignment fell back: the engine's ``marks`` ("engine"); without them,
    aligned ("aligned"), or estimated from phoneme counts when alignment
    fails ("estimated", with the reason)."""
    method, note = "engine", None
    if not marks:
        try:
            return clip_words(text, language, wav_path)[0], "aligned", None
        except AlignmentFailed as exc:
            counter = espeak_phoneme_counter(language)
            marks = estimate_marks(speakable(text), wav_path, counter)
            method, note = "estimated", f"alignment failed: {exc.message}"
    rate, frames = wav_format(wav_path)
    words = words_from_marks(text, marks, frames / rate, speech_bounds(wav_path)[1])
    return trim_to_sound(words, wav_path), method, note


def pauses(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """The silent stretches of at least ``MIN_PAUSE`` (start, end) in seconds."""
    loud = loud_frames(samples, rate)
    found, start = [], None
    for i, is_loud in enumerate([*loud, True]):
        if not is_loud and start is None:
            start = i
        elif is_loud and start is not None:
            if (i - start) * FRAME_SECONDS >= MIN_PAUSE:
                found.append((start * FRAME_SECONDS, i * FRAME_SECONDS))
            start = None
    return found


def _pooled(feats: np.ndarray, k: int) -> np.ndarray:
    n = len(feats) // k
    return feats[: n * k].reshape(n, k, -1).mean(axis=1) if n else feats[:1]


def sentence_bounds(
    texts: list[str], language: str, samples: np.ndarray, rate: int
) -> list[tuple[float, float]]:
    """Where each sentence's clip starts and ends in the recording (seconds).
    Neighbouring clips leave out the part of a pause the video's own gap
    between sentences (``GAP``) adds back."""
    duration = len(samples) / rate
    first, last = sound_bounds(samples, rate)
    begin, end = max(0.0, first - LEAD), min(duration, last + TRAIL)
    if len(texts) == 1:
        return [(begin, end)]
    refs = [espeak_reference(t, language) for t in texts]
    ref = np.vstack([r.feats for r in refs])
    rec = features(samples, rate)
    k = max(1, int(np.ceil(max(len(ref), len(rec)) / COARSE_FRAMES)))
    path, _ = dtw_path(_pooled(ref, k), _pooled(rec, k))
    ends = np.cumsum([len(r.feats) for r in refs])[:-1] * FRAME_SECONDS
    guesses = [t * k for t in map_times(path, list(ends / k))]
    return _clip_bounds(guesses, samples, rate, begin, end)


def _clip_bounds(
    guesses: list[float], samples: np.ndarray, rate: int, begin: float, end: float
) -> list[tuple[float, float]]:
    """Each clip's (start, end) from the guessed sentence ends, each moved
    to the nearest pause."""
    gaps = pauses(samples, rate)
    cuts: list[tuple[float, float]] = []
    for guess in guesses:
        near = [p for p in gaps if p[0] - SNAP_SECONDS <= guess <= p[1] + SNAP_SECONDS]
        if near:
            p0, p1 = max(near, key=lambda p: (p[1] - p[0]) - abs((p[0] + p[1]) / 2 - guess))
            trim = max(0.0, (p1 - p0 - GAP) / 2)
            cuts.append((p0 + trim, p1 - trim))
        else:
            cuts.append((guess, guess))
    starts = [begin] + [c[1] for c in cuts]
    stops = [c[0] for c in cuts] + [end]
    bounds: list[tuple[float, float]] = []
    for s, e in zip(starts, stops):  # keep them in order and at least one frame long
        s = max(s, bounds[-1][1] if bounds else 0.0)
        bounds.append((s, max(e, s + FRAME_SECONDS)))
    return bounds


def clips_from_words(
    wav_path: Path, sentences: list[str], words: list[tuple[str, float, float]], work_dir: Path
) -> list[SentenceClip]:
    """The recording cut into sentences by a transcription's word timestamps
    (``words``: (word, start, end) in seconds, in order)."""
    samples, rate = read_wav(wav_path)
    joined = " ".join(sentences)
    marks = locate(joined, words)
    offsets = np.cumsum([0] + [len(t) + 1 for t in sentences])
    per = [[m for m in marks if offsets[i] <= m[0] < offsets[i + 1]] for i in range(len(sentences))]
    if not any(per):
        raise AlignmentFailed("the transcription has no words")
    first, last = sound_bounds(samples, rate)
    duration = len(samples) / rate
    guesses = []
    for i in range(len(sentences) - 1):
        before = [m[2] for group in per[: i + 1] for m in group]
        after = [m[1] for group in per[i + 1 :] for m in group]
        end = max(before) if before else first
        guesses.append((end + min(after)) / 2 if after else end)
    bounds = _clip_bounds(
        guesses, samples, rate, max(0.0, first - LEAD), min(duration, last + TRAIL)
    )
    clips = []
    for i, ((start, stop), text) in enumerate(zip(bounds, sentences)):
        path = work_dir / f"voice_{i:03d}.wav"
        _write(path, samples[int(start * rate) : int(stop * rate)], rate)
        length = (int(stop * rate) - int(start * rate)) / rate
        local = [(p - offsets[i], max(0.0, s - start), max(0.0, e - start)) for p, s, e in per[i]]
        timed = words_from_marks(text, local, length)
        clips.append(SentenceClip(text, path, length, timed, None, int(start * rate) / rate))
    return clips


def align_recording(
    wav_path: Path, sentences: list[str], language: str, work_dir: Path
) -> list[SentenceClip]:
    """The recording (mono 16-bit WAV) cut into one clip per sentence,
    ``work_dir/voice_{i:03d}.wav``, each with its words' timings.
    ScriptMismatch when the script is not what the recording says."""
    samples, rate = read_wav(wav_path)
    spoken = [i for i, t in enumerate(sentences) if has_speech(t)]
    if not spoken:
        raise AlignmentFailed("the script has nothing to say, so it cannot match the recording")
    bounds = sentence_bounds([sentences[i] for i in spoken], language, samples, rate)
    clips: dict[int, SentenceClip] = {}
    for i, (start, stop) in zip(spoken, bounds):
        path = work_dir / f"voice_{i:03d}.wav"
        _write(path, samples[int(start * rate) : int(stop * rate)], rate)
        clip, _ = read_wav(path)
        aligned = align_clip(sentences[i], language, clip, rate)
        words = words_from_marks(sentences[i], aligned.marks, len(clip) / rate, aligned.end)
        clips[i] = SentenceClip(
            sentences[i],
            path,
            len(clip) / rate,
            trim_to_sound(words, path),
            aligned.cost,
            int(start * rate) / rate,
        )
    costs = [c.cost for c in clips.values() if c.cost is not None]
    if statistics.median(costs) > MISMATCH_COST:
        worst = max(clips.values(), key=lambda c: c.cost or 0.0)
        raise ScriptMismatch(
            "the script does not match the recording: its words could not be found in it "
            f"(alignment cost {statistics.median(costs):.2f}, normal is below "
            f"{MISMATCH_COST:.2f}; worst at {worst.text[:60]!r})"
        )
    out = []
    for i, text in enumerate(sentences):
        if i in clips:
            out.append(clips[i])
            continue
        path = work_dir / f"voice_{i:03d}.wav"
        _write(path, np.zeros(round(SILENT_SENTENCE * rate), dtype=np.float32), rate)
        out.append(
            SentenceClip(
                text, path, SILENT_SENTENCE, [WordTiming(t, 0.0, 0.0) for t in text.split()], None
            )
        )
    return out


def _write(path: Path, samples: np.ndarray, rate: int) -> None:
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
    write_wav(path, pcm.tobytes(), rate)
