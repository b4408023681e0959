"""Caption cues for tests: words evenly timed from a start."""

from reelsmith.captions.timing import Cue, Word


def timed_cue(text="one two three four", start=1.0, step=0.5, index=1) -> Cue:
    words = [
        Word(w, start + i * step, start + (i + 1) * step - 0.05) for i, w in enumerate(text.split())
    ]
    return Cue(index, text, start, words[-1].end, words)
