"""Timelines for tests of the render's parts: scenes at given times."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reelsmith.captions.timing import Cue
from reelsmith.render.timeline import Timeline, Transition


def scenes_at(
    starts: Sequence[float],
    duration: float,
    *,
    size: tuple[int, int],
    media: Sequence[Path | None] = (),
    transition: str = "cut",
    transition_seconds: float = 0.5,
    title: str = "Scenes",
) -> Timeline:
    """A timeline whose scenes' captions start at ``starts`` (the first
    scene shows from 0), each until the next, the last until ``duration``."""
    ends = [*starts[1:], duration]
    cues = [
        Cue(i + 1, f"Sentence number {i + 1}.", start, end)
        for i, (start, end) in enumerate(zip(starts, ends))
    ]
    return Timeline.from_cues(
        cues,
        size=size,
        title=title,
        duration=duration,
        media=media,
        transition=Transition(transition, transition_seconds),
    )
