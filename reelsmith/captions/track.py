"""What a frame shows of the captions: ``CaptionTrack`` draws every caption
of a video once (``raster``); a frame only picks which overlays to paste,
so no mode costs render time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from reelsmith.captions.raster import Layout, Overlay, TextLook, render_text_box, text_span
from reelsmith.captions.style import CaptionStyle
from reelsmith.captions.timing import Cue, Word


@dataclass
class _Shown:
    """One thing the track can show: a text overlay, its highlight overlays,
    the words they stand for, and when it is on screen."""

    start: float
    end: float
    base: Overlay
    highlights: list[Overlay]
    words: list[Word]
    image: Image.Image | None = None  # the base raster, for the pop-in sizes
    rtl: bool = False
    pops: list[Overlay] = field(default_factory=list)  # words mode: smaller first frames


POP_SECONDS = 0.067  # words mode: a group shows smaller for its first two frames
POP_SCALES = (0.88,)  # that smaller size


class CaptionTrack:
    """Every caption of a video, drawn once; ``draw(frame, t)`` pastes what
    is on screen at ``t``. ``state(t)`` says what that is (equal states draw
    equal pixels), so the frame function can skip unchanged frames."""

    def __init__(
        self,
        cues: Sequence[Cue],
        style: CaptionStyle,
        size: tuple[int, int],
        language: str | None = None,
    ):
        self.cues = list(cues)
        self.style = style
        self.size = size
        self.language = language
        self.missing: list[str] = []  # characters no bundled font has (not drawn)
        self.layout = Layout.for_size(*size)
        self.items: list[_Shown] = []
        if style.mode == "none" or not cues:
            return
        scale = min(size) / 1080
        look = TextLook(
            fill=style.rgb("text_color"),
            outline=style.rgb("outline_color"),
            stroke=int(round(style.outline_width * scale)),
            box_rgba=(*style.rgb("box_color"), int(255 * style.box_opacity) if style.box else 0),
            highlight=style.rgb("highlight_color"),
            max_words_per_line=style.max_words_per_line,
        )
        if style.mode == "words":
            for cue in cues:
                groups = [
                    cue.words[i : i + style.words_per_group]
                    for i in range(0, len(cue.words), style.words_per_group)
                ]
                for n, group in enumerate(groups):
                    end = groups[n + 1][0].start if n + 1 < len(groups) else cue.end
                    item = self._raster(
                        text_span(cue.text, [w.text for w in group]),
                        group,
                        group[0].start,
                        end,
                        look,
                        scale,
                    )
                    item.pops = [self._scaled(item.base, item, s) for s in POP_SCALES]
                    self.items.append(item)
        else:
            for cue in cues:
                self.items.append(
                    self._raster(cue.text, cue.words, cue.start, cue.end, look, scale)
                )
        # A caption stays up through the pause after it, until the next one
        # starts (the last one to the end); in words mode only short pauses.
        for item, after in zip(self.items, self.items[1:]):
            if style.mode != "words" or after.start - item.end < 0.6:
                item.end = after.start
        if style.mode != "words":
            self.items[-1].end = float("inf")

    @property
    def overlays(self) -> list[Overlay]:
        """Every overlay the track can paste (for checks of where they sit)."""
        return [o for item in self.items for o in (item.base, *item.highlights, *item.pops)]

    def _raster(self, text, words, start, end, look, scale) -> _Shown:
        style, (width, height) = self.style, self.size
        layout = self.layout
        band_left = int(width * layout.caption_left)
        band_width = int(width * layout.caption_width)
        max_h = int(height * (layout.caption_bottom_limit - layout.caption_top_limit))
        font_size = max(12, int(style.size * scale))
        while True:
            box = render_text_box(
                style.cased(text),
                style.font,
                width=band_width,
                font_size=font_size,
                max_lines=style.max_lines,
                look=look,
                language=self.language,
            )
            if box.image.height <= max_h or font_size <= 12:
                break
            font_size = int(font_size * 0.9)
        x = band_left + (band_width - box.image.width) // 2
        y = layout.caption_y(style.position, box.image.height, height)
        highlights = [
            Overlay(w, x + wx, y + wy, self.size) for w, (wx, wy) in zip(box.words, box.word_xy)
        ]
        if len(highlights) != len(words):  # the wrap split a word: highlight nothing wrongly
            highlights = []
        self.missing += [ch for ch in box.missing if ch not in self.missing]
        return _Shown(
            start,
            end,
            Overlay(box.image, x, y, self.size),
            highlights,
            list(words),
            image=box.image,
            rtl=box.rtl,
        )

    def _scaled(self, overlay: Overlay, item: _Shown, s: float) -> Overlay:
        image = item.image
        small = image.resize(
            (max(1, int(image.width * s)), max(1, int(image.height * s))), Image.Resampling.BILINEAR
        )
        x0, y0, x1, y1 = overlay.box
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        return Overlay(small, cx - small.width // 2, cy - small.height // 2, self.size)

    def item_index(self, t: float) -> int | None:
        """The caption on screen at ``t`` (None before the first and in long pauses)."""
        current = None
        for i, item in enumerate(self.items):
            if t >= item.start:
                current = i
            else:
                break
        if current is None or t >= self.items[current].end:
            return None
        return current

    def word_index(self, i: int, t: float) -> int | None:
        """The word being spoken at ``t`` in caption ``i`` (None once it has ended)."""
        item = self.items[i]
        if not item.words or t >= item.words[-1].end:
            return None
        current = None
        for n, word in enumerate(item.words):
            if t >= word.start:
                current = n
        return current

    def state(self, t: float):
        i = self.item_index(t)
        if i is None:
            return None
        item = self.items[i]
        if self.style.mode == "karaoke":
            return (i, round(self._fill(item, t) * 1000))
        pop = None
        if item.pops and t - item.start < POP_SECONDS:
            pop = int((t - item.start) / POP_SECONDS * len(item.pops))
        return (i, self.word_index(i, t), pop)

    def _fill(self, item: _Shown, t: float) -> float:
        """Karaoke: how many words are filled at ``t``, as words + a fraction."""
        done = 0.0
        for word in item.words:
            if t >= word.end:
                done += 1
            elif t > word.start:
                done += (t - word.start) / max(word.end - word.start, 1e-6)
                break
            else:
                break
        return done

    def draw(self, frame: np.ndarray, t: float) -> None:
        """Paste what is on screen at ``t`` onto an RGB frame."""
        for overlay, fraction, from_right in self.shown(t):
            overlay.apply(frame, fraction, from_right)

    def draw_yuv(self, planes, t: float) -> None:
        """The same onto a yuv420p frame's planes."""
        for overlay, fraction, from_right in self.shown(t):
            overlay.apply_yuv(planes, fraction, from_right)

    def shown(self, t: float) -> list[tuple[Overlay, float, bool]]:
        """The overlays to paste at ``t``, in order, each with the share of its
        width to paste and from which side."""
        i = self.item_index(t)
        if i is None:
            return []
        item = self.items[i]
        if self.style.mode == "karaoke":
            fill = self._fill(item, t)
            return [(item.base, 1.0, False)] + [
                (overlay, min(1.0, fill - n), item.rtl)
                for n, overlay in enumerate(item.highlights)
                if n < fill
            ]
        if item.pops and t - item.start < POP_SECONDS:
            return [(item.pops[int((t - item.start) / POP_SECONDS * len(item.pops))], 1.0, False)]
        word = self.word_index(i, t)
        if word is not None and item.highlights:
            return [(item.base, 1.0, False), (item.highlights[word], 1.0, False)]
        return [(item.base, 1.0, False)]
