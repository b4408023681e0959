"""A timeline's frames, one ``VideoClip`` frame function instead of a
``CompositeVideoClip`` of many clips (which builds a float mask for every
frame and resizes the background with Pillow):

* the background moves as a sub-pixel warp (``render.backdrop``);
* the title card and captions are rasterised once with Pillow and pasted
  into their box only (``captions.raster``);
* frames are made in yuv420p, the form x264 encodes (``core.yuv``), and a
  frame identical to the previous one is not rebuilt.
"""

from __future__ import annotations

import numpy as np

from reelsmith.captions.raster import Layout, Overlay, TextLook, render_text_box
from reelsmith.captions.track import CaptionTrack
from reelsmith.core import yuv
from reelsmith.render.backdrop import MediaBackground, backdrop
from reelsmith.render.timeline import Timeline


class FrameMaker:
    """``frame(t) -> HxWx3 uint8``: the timeline's background, its title card
    for the card's first seconds, and its captions in their style."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        size = timeline.size
        self.width, self.height = size
        self.layout = layout = Layout.for_size(*size)
        self.moving = timeline.ken_burns or timeline.has_media or timeline.icons is not None
        self.title_seconds = timeline.title.seconds
        scale = min(size) / 1080
        self.background = backdrop(timeline)
        title_box = render_text_box(
            timeline.title.text,
            timeline.style.font,
            width=int(self.width * 0.84),
            font_size=int(84 * scale),
            max_lines=4,
            look=TextLook(box_rgba=(0, 0, 0, 160)),
            language=timeline.language,
        )
        self.title = Overlay(
            title_box.image,
            (self.width - title_box.image.width) // 2,
            int(self.height * layout.title_top),
            size,
        )
        self.captions = CaptionTrack(timeline.cues, timeline.style, size, timeline.language)
        # Characters no bundled font has: left out of the picture, reported in the result.
        self.missing = [
            *title_box.missing,
            *(ch for ch in self.captions.missing if ch not in title_box.missing),
        ]
        self._last = {}  # form ("rgb" or "yuv") -> (key, frame)

    def _key(self, t: float):
        return (
            self.captions.state(t),
            t < self.title_seconds,
            round(t * 1000) if self.moving else None,
        )

    def __call__(self, t: float) -> np.ndarray:
        """The RGB frame at ``t`` (previews, the thumbnail, checks)."""
        key = self._key(t)
        if self._last.get("rgb", (None,))[0] == key:
            return self._last["rgb"][1]
        frame = self.background.frame_at(t)
        if t < self.title_seconds:
            self.title.apply(frame)
        self.captions.draw(frame, t)
        self._last["rgb"] = (key, frame)
        return frame

    def yuv(self, t: float) -> np.ndarray:
        """The same frame as yuv420p (``core.yuv``), made in that form from
        the start: what the encoder takes. A frame equal to the previous one
        is the same array."""
        key = self._key(t)
        if self._last.get("yuv", (None,))[0] == key:
            return self._last["yuv"][1]
        frame = self.background.frame_yuv(t)
        planes = yuv.planes(frame, self.width, self.height)
        if t < self.title_seconds:
            self.title.apply_yuv(planes)
        self.captions.draw_yuv(planes, t)
        self._last["yuv"] = (key, frame)
        return frame

    def close(self) -> None:
        if isinstance(self.background, MediaBackground):
            self.background.close()
