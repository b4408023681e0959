"""The picture behind the words: the generated background for a whole
video, or each scene's image, clip or the generated background in turn,
blended across scene boundaries by a transition."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelsmith.core import yuv
from reelsmith.core.exceptions import RenderError
from reelsmith.render.timeline import Timeline
from reelsmith.render.transitions import TRANSITIONS
from reelsmith.render.transitions.base import Blend
from reelsmith.visuals.icons.drawing import IconsBackground
from reelsmith.visuals.media import CLIP_SUFFIXES, IMAGE_SUFFIXES, ClipSource, ImageSource
from reelsmith.visuals.motion import Background


class _GeneratedSource:
    """The generated background standing in for one sentence's media (its
    motion follows the video's clock ``t``, so it never jumps)."""

    def __init__(self, background: Background | IconsBackground):
        self.background = background

    def frame(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_at(t)

    def frame_yuv(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_yuv(t)


@dataclass(frozen=True)
class Span:
    """Scenes in a row with the same media, shown as one: from ``start`` to
    ``end``, blended into from the span before by the transition ``kind``
    over ``half`` seconds either side of ``start`` ("cut": no blend)."""

    start: float
    end: float
    media: Path | None
    kind: str = "cut"
    half: float = 0.0


def span_layout(timeline: Timeline) -> list[Span]:
    """The timeline's spans and the blends between them (what
    ``MediaBackground`` shows, worked out without opening any media)."""
    spans: list[Span] = []
    seconds: list[float] = []
    for i, scene in enumerate(timeline.scenes):
        if spans and spans[-1].media == scene.media:
            spans[-1] = Span(spans[-1].start, scene.end, scene.media, spans[-1].kind)
            continue
        kind, length = "cut", 0.0
        if spans:
            transition = timeline.transitions[i - 1]
            if transition.kind not in TRANSITIONS:
                raise RenderError(f"unknown transition {transition.kind!r}")
            if TRANSITIONS[transition.kind] is not None:
                kind, length = transition.kind, transition.seconds
        spans.append(Span(scene.start, scene.end, scene.media, kind))
        seconds.append(length)
    return [
        Span(
            span.start,
            span.end,
            span.media,
            span.kind,
            0.5 * min(seconds[i], spans[i - 1].end - spans[i - 1].start, span.end - span.start)
            if span.kind != "cut"
            else 0.0,
        )
        for i, span in enumerate(spans)
    ]


class MediaBackground:
    """Each scene's image, clip or the generated background, in turn. Scenes
    in a row with the same one (a single image for the whole video) share
    one span, so its Ken-Burns zoom (or the clip) runs on without a jump.

    The transition at a span's first scene blends the span before into it,
    centred on their boundary and shortened to fit short spans. Only the
    picture changes: the caption and audio times are not touched."""

    def __init__(self, timeline: Timeline):
        size = timeline.size
        opened: dict[Path | None, object] = {}
        for scene in timeline.scenes:
            path = scene.media
            if path in opened:
                continue
            suffix = Path(path).suffix.lower() if path is not None else None
            if path is None:
                opened[path] = _GeneratedSource(generated(timeline))
            elif suffix in IMAGE_SUFFIXES:
                opened[path] = ImageSource(Path(path), size)
            elif suffix in CLIP_SUFFIXES:
                opened[path] = ClipSource(Path(path), size)
            else:
                raise RenderError(f"{Path(path).name}: not an image or video clip")
        self.size = size
        self.sources = list(opened.values())
        layout = span_layout(timeline)
        self.spans = [(span.start, span.end, opened[span.media]) for span in layout]
        # The blend into each span (None for the first, and for a cut).
        self.blends: list[Blend | None] = [TRANSITIONS[span.kind] for span in layout]
        # Half the transition at each boundary i (between span i-1 and span i).
        self.half = [span.half for span in layout]

    def _span_frame(self, i: int, t: float, form: str) -> np.ndarray:
        start, end, source = self.spans[i]
        make = source.frame_yuv if form == "yuv" else source.frame
        return make(t - start, end - start, t)

    def _frame(self, t: float, form: str) -> np.ndarray:
        i = next((k for k, (_, end, _) in enumerate(self.spans) if t < end), len(self.spans) - 1)
        start, end, _ = self.spans[i]
        way_in = self.blends[i] is not None and t < start + self.half[i]  # its second half
        way_out = (
            i + 1 < len(self.spans)
            and self.blends[i + 1] is not None
            and t >= end - self.half[i + 1]
        )  # its first half
        shown = {self.spans[k][2] for k in (i - 1 if way_in else i, i, i + 1 if way_out else i)}
        for source in self.sources:  # a clip's decoder stops as soon as no shown span needs it
            if isinstance(source, ClipSource) and source not in shown:
                source.close()
        frame = self._span_frame(i, t, form)
        split = (lambda f: yuv.planes(f, *self.size)) if form == "yuv" else (lambda f: (f,))
        if way_in:
            h = self.half[i]
            return self.blends[i](
                self._span_frame(i - 1, t, form), frame, (t - start + h) / (2 * h), split
            )
        if way_out:
            h = self.half[i + 1]
            return self.blends[i + 1](
                frame, self._span_frame(i + 1, t, form), (t - end + h) / (2 * h), split
            )
        return frame

    def frame_at(self, t: float) -> np.ndarray:
        return self._frame(t, "rgb")

    def frame_yuv(self, t: float) -> np.ndarray:
        """The frame as yuv420p (core.yuv): photos are zoomed and clips decoded
        in that form, and transitions blend the planes, so no frame is converted."""
        return self._frame(t, "yuv")

    def close(self) -> None:
        for source in self.sources:
            if isinstance(source, ClipSource):
                source.close()


def generated(timeline: Timeline) -> Background | IconsBackground:
    """The picture made for scenes without media: the icons look, else the generated one."""
    if timeline.icons is not None:
        return IconsBackground(timeline.size, timeline.icons, timeline.ken_burns)
    return Background(timeline.size, timeline.look, timeline.duration, timeline.ken_burns)


def backdrop(timeline: Timeline) -> Background | IconsBackground | MediaBackground:
    """The picture behind a timeline's words: its generated (or icons) look
    when no scene has media, else ``MediaBackground``."""
    if not timeline.has_media:
        return generated(timeline)
    return MediaBackground(timeline)
