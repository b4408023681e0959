"""Caption timing. Each sentence is a ``Cue`` placed at the exact sample
offsets of its audio. Its ``words`` come from the voice
(``SpeechSegment.words``, in seconds of the sentence's own audio) shifted
into video time; a segment without timings gets an estimate by character
count, and the render says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reelsmith.captions import breaking
from reelsmith.voice.synthesizer import Narration, WordTiming

Word = WordTiming  # a caption's word: text, start and end in video time


@dataclass
class Cue:
    """One caption: the sentence, when its audio plays, and when each word does."""

    index: int
    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)  # one per highlight unit (breaking.units)

    def __post_init__(self):
        if not self.words:
            self.words = estimate_words(self.text, self.start, self.end)


def estimate_words(text: str, start: float, end: float) -> list[Word]:
    """The last resort when a voice gave no timings: time shared by length."""
    tokens = text.split()
    weights = [len(w) + 2 for w in tokens]
    total = sum(weights) or 1
    words, t = [], start
    for token, w in zip(tokens, weights):
        d = (end - start) * w / total
        words.append(Word(token, t, t + d))
        t += d
    return split_units(words)


def split_units(words: Sequence[Word]) -> list[Word]:
    """Words as highlight units (``breaking.units``): a "word" between spaces of a
    script written without them becomes its characters (Chinese, Japanese) or
    its dictionary words (Thai, Lao, Khmer, Burmese), its time shared by length."""
    units: list[Word] = []
    for word in words:
        pieces = breaking.units(word.text) or [word.text]
        weights = [len(p) + 2 for p in pieces] if len(pieces) > 1 else [1]
        total, t = sum(weights), word.start
        for piece, weight in zip(pieces, weights):
            d = (word.end - word.start) * weight / total
            units.append(Word(piece, t, t + d))
            t += d
    return units


def cues_for(narration: Narration, spans: Sequence[tuple[float, float]]) -> list[Cue]:
    """The cues of a narration whose sentences play at ``spans`` (video time):
    each word's timing from the voice, shifted by its sentence's start, kept
    monotonic and inside the cue, and split into highlight units."""
    cues = []
    for i, (seg, (start, end)) in enumerate(zip(narration.segments, spans)):
        words = []
        if seg.words and len(seg.words) == len(seg.text.split()):
            last = start
            for w in seg.words:
                w_start = min(max(start + w.start, last), end)
                w_end = min(max(start + w.end, w_start), end)
                words.append(Word(w.text, w_start, w_end))
                last = w_start
            words = split_units(words)
        cues.append(Cue(i + 1, seg.text, start, end, words))
    return cues
