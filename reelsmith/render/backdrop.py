"""The picture behind the words: the generated background for a whole
video, or each scene's image, clip or the generated background in turn,
blended across scene boundaries by a transition."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reelsmith.core import yuv
from reelsmith.core.exceptions import RenderError
from reelsmith.render.transitions import TRANSITIONS
from reelsmith.visuals.look import Look, mood_of
from reelsmith.visuals.media import CLIP_SUFFIXES, IMAGE_SUFFIXES, ClipSource, ImageSource
from reelsmith.visuals.motion import Background


class _GeneratedSource:
    """The generated background standing in for one sentence's media (its
    motion follows the video's clock ``t``, so it never jumps)."""

    def __init__(self, background: Background):
        self.background = background

    def frame(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_at(t)

    def frame_yuv(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_yuv(t)


class MediaBackground:
    """One image, clip or the generated background per sentence, in turn.
    Sentences in a row that get the same one (a single image for the whole
    video) share one span, so its Ken-Burns zoom (or the clip) runs on
    without a jump. ``None`` in ``paths`` is the generated background.

    ``transition`` (see ``TRANSITIONS``) blends span into span over
    ``transition_seconds``, centred on the boundary (the next sentence's
    start; shortened to fit short spans). Only the picture changes: the
    caption and audio times are not touched."""

    def __init__(
        self,
        paths: Sequence[Path | None],
        size,
        starts: Sequence[float],
        duration: float,
        *,
        seed: str = "",
        ken_burns: bool = True,
        mood: str = "neutral",
        transition: str = "cut",
        transition_seconds: float = 0.5,
    ):
        """``starts``: when each sentence starts; the first span starts at 0."""
        if transition not in TRANSITIONS:
            raise RenderError(f"unknown transition {transition!r}")
        opened: dict[Path | None, object] = {}
        for path in paths:
            if path in opened:
                continue
            suffix = Path(path).suffix.lower() if path is not None else None
            if path is None:
                opened[path] = _GeneratedSource(
                    Background(size, Look.of(seed, mood), duration, ken_burns)
                )
            elif suffix in IMAGE_SUFFIXES:
                opened[path] = ImageSource(Path(path), size)
            elif suffix in CLIP_SUFFIXES:
                opened[path] = ClipSource(Path(path), size)
            else:
                raise RenderError(f"{Path(path).name}: not an image or video clip")
        starts = [0.0, *starts[1:]]
        ends = starts[1:] + [duration]
        self.size = size
        self.sources = list(opened.values())
        self.spans: list[tuple[float, float, object]] = []
        for i, (start, end) in enumerate(zip(starts, ends)):
            source = opened[paths[i % len(paths)]]
            if self.spans and self.spans[-1][2] is source:
                start = self.spans.pop()[0]
            self.spans.append((start, end, source))
        self.blend = TRANSITIONS[transition]
        # Half the transition at each boundary i (between span i-1 and span i).
        self.half = [0.0] + [
            0.5
            * min(
                transition_seconds,
                self.spans[i - 1][1] - self.spans[i - 1][0],
                self.spans[i][1] - self.spans[i][0],
            )
            if self.blend
            else 0.0
            for i in range(1, len(self.spans))
        ]

    def _span_frame(self, i: int, t: float, form: str) -> np.ndarray:
        start, end, source = self.spans[i]
        make = source.frame_yuv if form == "yuv" else source.frame
        return make(t - start, end - start, t)

    def _frame(self, t: float, form: str) -> np.ndarray:
        i = next((k for k, (_, end, _) in enumerate(self.spans) if t < end), len(self.spans) - 1)
        start, end, _ = self.spans[i]
        blend = self.blend is not None
        way_in = blend and i > 0 and t < start + self.half[i]  # its second half
        way_out = (
            blend and i + 1 < len(self.spans) and t >= end - self.half[i + 1]
        )  # its first half
        shown = {self.spans[k][2] for k in (i - 1 if way_in else i, i, i + 1 if way_out else i)}
        for source in self.sources:  # a clip's decoder stops as soon as no shown span needs it
            if isinstance(source, ClipSource) and source not in shown:
                source.close()
        frame = self._span_frame(i, t, form)
        split = (lambda f: yuv.planes(f, *self.size)) if form == "yuv" else (lambda f: (f,))
        if way_in:
            h = self.half[i]
            return self.blend(
                self._span_frame(i - 1, t, form), frame, (t - start + h) / (2 * h), split
            )
        if way_out:
            h = self.half[i + 1]
            return self.blend(
                frame, self._span_frame(i + 1, t, form), (t - end + h) / (2 * h), split
            )
        return frame

    def frame_at(self, t: float) -> np.ndarray:
        return self._frame(t, "rgb")

    def frame_yuv(self, t: float) -> np.ndarray:
        """The frame as yuv420p (yuv.py): photos are zoomed and clips decoded
        in that form, and transitions blend the planes, so no frame is converted."""
        return self._frame(t, "yuv")

    def close(self) -> None:
        for source in self.sources:
            if isinstance(source, ClipSource):
                source.close()


def make_scene(
    size,
    *,
    seed: str,
    duration: float,
    ken_burns: bool,
    media: Sequence[Path | None],
    starts: Sequence[float],
    text: str = "",
    transition: str = "cut",
    transition_seconds: float = 0.5,
):
    """The background for a video: the generated one when there is no media
    (in the look of ``seed`` and the mood of ``text``), else ``MediaBackground``."""
    mood = mood_of(text)
    if not media or all(path is None for path in media):
        return Background(size, Look.of(seed, mood), duration, ken_burns)
    return MediaBackground(
        media,
        size,
        starts,
        duration,
        seed=seed,
        ken_burns=ken_burns,
        mood=mood,
        transition=transition,
        transition_seconds=transition_seconds,
    )
