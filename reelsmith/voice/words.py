"""Word timings for spoken sentences, and the text a voice is given.

* ``speakable(text)``: the sentence with emoji and other pictographic symbols
  replaced by spaces, so no voice reads "red heart" aloud. Replacing (not
  removing) keeps every character offset, so a timing an engine reports at a
  position of the spoken text maps straight back to a word of the original.
* ``words_from_marks``: engines that know their timings (espeak's word
  events, Edge's WordBoundary, Piper's phoneme alignments) report *marks*,
  ``(char_position, start, end or None)`` in the spoken text. They become one
  ``WordTiming`` per ``text.split()`` token of the original sentence; a token
  with nothing to say (an emoji) gets a zero-length timing at its neighbour's
  boundary.
* ``estimate_marks``: for engines that give no timings (gTTS, OpenAI). The
  speech is found in the WAV by RMS energy (leading and trailing silence
  excluded) and shared between the words in proportion to their phoneme counts
  from the espeak phonemizer (letters when espeak lacks the language), with a
  pause after each word that grows with its punctuation. Far closer than
  character counts: "through" is 7 letters and 3 phonemes.
"""

from __future__ import annotations

import re
import unicodedata
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Mark = tuple[int, float, "float | None"]  # (char position in the spoken text, start s, end s)

_TOKEN = re.compile(r"\S+")
# Emoji parts that are not category So/Sk: variation selectors, ZWJ, keycap, tags.
_INVISIBLE_EMOJI_PARTS = {0x200D, 0x20E3, *range(0xFE00, 0xFE10), *range(0xE0020, 0xE0080)}
_STRIPPED_CATEGORIES = {"So", "Sk", "Cs", "Co", "Me"}  # pictographs, modifiers, private use
_SENTENCE_END = tuple(".!?。！？…")
_CLAUSE_END = tuple(",;:、，；：—–")
# Pauses after a word, in phoneme-lengths (a rough fit to Piper and espeak audio).
PAUSE_SENTENCE, PAUSE_CLAUSE, PAUSE_WORD = 4.0, 2.5, 0.4


@dataclass(frozen=True)
class WordTiming:
    """When one word of a sentence is spoken, in seconds from the start of
    that sentence's WAV. ``text`` is the word as written in the sentence."""

    text: str
    start: float
    end: float


def _stripped(ch: str) -> bool:
    return ord(ch) in _INVISIBLE_EMOJI_PARTS or unicodedata.category(ch) in _STRIPPED_CATEGORIES


def speakable(text: str) -> str:
    """``text`` with emoji and pictographic symbols (©, ™, ★ …) replaced by
    spaces: same length, same offsets. Letters, digits, punctuation, currency
    and maths signs stay (a voice should say "5 €" and "2 + 2")."""
    return "".join(" " if _stripped(ch) else ch for ch in text)


def has_speech(text: str) -> bool:
    return any(ch.isalnum() for ch in speakable(text))


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) for each ``text.split()`` token."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def words_from_marks(
    text: str, marks: list[Mark], duration: float, speech_end: float | None = None
) -> list[WordTiming]:
    """One WordTiming per token of ``text`` from the engine's marks.

    A token takes the marks that fall inside it (the earliest start, the
    latest end); a mark in whitespace goes to the next token. A mark without
    an end ends where the next mark starts (the last at ``speech_end``, else
    ``duration``). Tokens without marks are zero-length at the previous
    word's end. The result is monotonic and inside [0, duration]."""
    spans = tokens(text)
    if not spans:
        return []
    marks = sorted(marks, key=lambda m: (m[1], m[0]))
    last_end = duration if speech_end is None else min(speech_end, duration)
    filled: list[tuple[int, float, float]] = []
    for i, (pos, start, end) in enumerate(marks):
        if end is None:
            end = marks[i + 1][1] if i + 1 < len(marks) else max(last_end, start)
        filled.append((pos, start, end))
    ends = [e for _, e, _ in spans]
    per_token: list[list[tuple[float, float]]] = [[] for _ in spans]
    for pos, start, end in filled:
        index = next((i for i, e in enumerate(ends) if pos < e), None)
        if index is None:
            index = len(spans) - 1
        per_token[index].append((start, end))
    times: list[list[float]] = []
    previous_end = 0.0
    for found in per_token:
        if found:
            start = max(previous_end, min(s for s, _ in found))
            end = max(start, max(e for _, e in found))
        else:
            start = end = previous_end
        times.append([min(start, duration), min(end, duration)])
        previous_end = times[-1][1]
    _share_merged(spans, times)
    return [
        WordTiming(token, round(float(start), 4), round(float(end), 4))
        for (_, _, token), (start, end) in zip(spans, times)
    ]


def _share_merged(spans, times) -> None:
    """Words a voice ran together ("of the", "was a": one event or one
    phoneme word for both) share the span of the word that got it, split by
    letters, so no spoken word is left zero-length."""
    speaks = [has_speech(t) for _, _, t in spans]
    i = 0
    while i < len(spans):
        if not (speaks[i] and times[i][1] <= times[i][0]):
            i += 1
            continue
        run_end = i
        while run_end < len(spans) and speaks[run_end] and times[run_end][1] <= times[run_end][0]:
            run_end += 1
        if run_end < len(spans) and speaks[run_end]:
            group = list(range(i, run_end + 1))  # merged into the next word
        elif i > 0 and speaks[i - 1] and times[i - 1][1] > times[i - 1][0]:
            group = list(range(i - 1, run_end))  # merged into the previous word
        else:
            i = run_end
            continue
        start, end = times[group[0]][0], times[group[-1]][1]
        weights = [max(1, letter_count(spans[k][2])) for k in group]
        t = start
        for k, weight in zip(group, weights):
            times[k] = [t, t + (end - start) * weight / sum(weights)]
            t = times[k][1]
        times[group[-1]][1] = end
        i = group[-1] + 1


def trim_to_sound(
    words: list[WordTiming], path: Path, floor_db: float = -35.0, keep: float = 0.08
) -> list[WordTiming]:
    """Each word's end moved back over silence inside it (the pause after
    "hearts," belongs to no word), keeping at least ``keep`` seconds."""
    loud, hop = _loud_frames(path, floor_db)
    if loud is None:
        return words
    out = []
    for w in words:
        end = w.end
        while end - hop > w.start + keep:
            frame = int((end - hop) / hop)
            if frame < len(loud) and loud[frame]:
                break
            end -= hop
        out.append(WordTiming(w.text, w.start, round(float(end), 4)))
    return out


def _loud_frames(path: Path, floor_db: float):
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    hop = max(1, rate // 100)
    frames = len(samples) // hop
    if frames == 0:
        return None, hop / rate
    rms = np.sqrt(
        np.mean(samples[: frames * hop].astype(np.float64).reshape(frames, hop) ** 2, axis=1)
    )
    return rms >= max(rms.max() * 10 ** (floor_db / 20), 30.0), hop / rate


def scale_words(words: list[WordTiming], factor: float, duration: float) -> list[WordTiming]:
    """Timings after the audio was stretched by ``factor`` (0.5 = twice as fast)."""
    return [
        WordTiming(
            w.text,
            round(float(min(w.start * factor, duration)), 4),
            round(float(min(w.end * factor, duration)), 4),
        )
        for w in words
    ]


# -- estimates ----------------------------------------------------------------------
def speech_bounds(path: Path, floor_db: float = -35.0) -> tuple[float, float]:
    """(first, last) second of sound in a mono 16-bit WAV: the 10 ms frames
    whose RMS is within ``floor_db`` of the loudest frame. Leading and
    trailing silence (and a voice's breath before it starts) are left out."""
    loud, hop = _loud_frames(path, floor_db)
    with wave.open(str(path), "rb") as w:
        duration = w.getnframes() / w.getframerate()
    if loud is None or not loud.any():
        return 0.0, duration
    index = np.flatnonzero(loud)
    return float(index[0] * hop), float(min(duration, (index[-1] + 1) * hop))


def _pause_after(token: str) -> float:
    token = token.rstrip("\"'”’)]»")
    if token.endswith(_SENTENCE_END):
        return PAUSE_SENTENCE
    if token.endswith(_CLAUSE_END):
        return PAUSE_CLAUSE
    return PAUSE_WORD


def letter_count(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def estimate_marks(
    spoken: str, wav_path: Path, phoneme_count: Callable[[str], int] | None = None
) -> list[Mark]:
    """Marks for every speakable token of ``spoken``, spread over the WAV's
    sound in proportion to phoneme counts (``phoneme_count``; letters when
    it is None or fails), with punctuation pauses between words."""
    count = phoneme_count or letter_count
    spans = [(s, t) for s, _, t in tokens(spoken) if has_speech(t)]
    if not spans:
        return []
    weights = []
    for _, token in spans:
        try:
            weights.append(max(1, count(token)))
        except Exception:  # a phonemizer failure costs accuracy, never the narration
            weights.append(max(1, letter_count(token)))
    pauses = [_pause_after(t) for _, t in spans[:-1]] + [0.0]
    begin, end = speech_bounds(wav_path)
    unit = (end - begin) / (sum(weights) + sum(pauses))
    marks: list[Mark] = []
    t = begin
    for (pos, _), weight, pause in zip(spans, weights, pauses):
        marks.append((pos, t, t + weight * unit))
        t += (weight + pause) * unit
    return marks
