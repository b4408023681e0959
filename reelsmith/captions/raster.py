"""Caption and title rasters: text is drawn once per video with Pillow
(``render_text_box``) into ``Overlay``s, premultiplied RGBA pasted with two
SIMD OpenCV calls, placed by the frame's ``Layout``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from reelsmith.captions import breaking
from reelsmith.captions.chain import FontChain, is_rtl
from reelsmith.core import yuv


@dataclass(frozen=True)
class Layout:
    """Where text goes, as fractions of the frame.

    On 9:16 the captions keep clear of the top 12 % (the app's header), the
    bottom 20 % (titles, buttons) and the right-hand icon column (16 %) that
    Shorts / Reels / TikTok draw.
    """

    caption_left: float
    caption_width: float
    caption_center_y: float  # the middle position's centre
    caption_bottom_limit: float  # no caption pixel below this fraction
    title_top: float
    caption_top_limit: float  # no caption pixel above this fraction

    @classmethod
    def for_size(cls, width: int, height: int) -> Layout:
        if height > width * 1.2:  # portrait, 9:16
            return cls(0.06, 0.78, 0.60, 0.80, 0.16, 0.12)
        if width > height * 1.2:  # landscape, 16:9
            return cls(0.10, 0.80, 0.76, 0.90, 0.10, 0.08)
        return cls(0.07, 0.80, 0.68, 0.86, 0.12, 0.08)  # square

    def caption_y(self, position: str, box_height: int, frame_height: int) -> int:
        """The top of a caption box of ``box_height`` at ``position``, inside the limits."""
        top = int(frame_height * self.caption_top_limit)
        bottom = int(frame_height * self.caption_bottom_limit)
        if position == "top":
            y = top + int(frame_height * 0.06)
        elif position == "bottom":
            y = bottom - box_height
        else:
            y = int(frame_height * self.caption_center_y) - box_height // 2
        return max(top, min(y, bottom - box_height))


class Overlay:
    """An RGBA image pasted at (x, y), blended with two SIMD OpenCV calls.

    Stored premultiplied: ``frame = frame * (255 - a) / 255 + rgb * a / 255``,
    in the form of the frames it is pasted on (RGB or yuv420p), each made on
    first use: a render only ever needs the YUV one (and the RGB one for the
    thumbnail's few overlays).
    """

    def __init__(self, image: Image.Image, x: int, y: int, frame_size: tuple[int, int]):
        fw, fh = frame_size
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(fw, x + image.width), min(fh, y + image.height)
        self.box = (x0, y0, x1, y1)
        self._rgba = np.asarray(image.convert("RGBA"))[y0 - y : y1 - y, x0 - x : x1 - x]
        self._frame_size = frame_size
        self._rgb = self._planes = None

    def _premultiplied_rgb(self) -> tuple[np.ndarray, np.ndarray]:
        if self._rgb is None:
            alpha = self._rgba[..., 3:4].astype(np.uint16)
            self._rgb = (
                ((self._rgba[..., :3] * alpha + 127) // 255).astype(np.uint8),
                np.repeat(255 - alpha, 3, axis=2).astype(np.uint8),
            )
        return self._rgb

    def _yuv(self):
        """The overlay as premultiplied yuv420p planes over a box with even
        edges, each with its inverse alpha (chroma: the alpha averaged over
        each 2x2 block). Blending in YUV is the same sum as in RGB, since
        BT.601 is an affine map of RGB; made once, on first use."""
        if self._planes is None:
            x0, y0, x1, y1 = self.box
            fw, fh = self._frame_size
            ex0, ey0 = x0 - x0 % 2, y0 - y0 % 2
            ex1, ey1 = min(fw, x1 + x1 % 2), min(fh, y1 + y1 % 2)
            rgba = np.zeros((ey1 - ey0, ex1 - ex0, 4), np.uint8)
            rgba[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = self._rgba
            alpha = rgba[..., 3]
            small_alpha = cv2.resize(
                alpha, (alpha.shape[1] // 2, alpha.shape[0] // 2), interpolation=cv2.INTER_AREA
            )
            converted = yuv.frame_to_yuv(np.ascontiguousarray(rgba[..., :3]))
            planes = []
            for plane, a in zip(
                yuv.planes(converted, ex1 - ex0, ey1 - ey0), (alpha, small_alpha, small_alpha)
            ):
                a16 = a.astype(np.uint16)
                planes.append(
                    (((plane * a16 + 127) // 255).astype(np.uint8), (255 - a).astype(np.uint8))
                )
            self._planes = ((ex0, ey0, ex1, ey1), planes)
        return self._planes

    def apply(self, frame: np.ndarray, fraction: float = 1.0, from_right: bool = False) -> None:
        """Paste the overlay; with ``fraction`` < 1 only that share of its width
        (from the left, or from the right for right-to-left text)."""
        _blend([frame], self.box, [self._premultiplied_rgb()], 1, fraction, from_right)

    def apply_yuv(self, frame_planes, fraction: float = 1.0, from_right: bool = False) -> None:
        """``apply`` on a yuv420p frame (its ``_planes`` views), cut on even columns."""
        box, planes = self._yuv()
        _blend(frame_planes, box, planes, 2, fraction, from_right)


def _blend(targets, box, planes, step: int, fraction: float, from_right: bool) -> None:
    """Blend each (premultiplied, inverse alpha) of ``planes`` into its target
    at ``box`` (the planes after the first are chroma, at half size); with
    ``fraction`` < 1 only that share of the width, a multiple of ``step``."""
    x0, y0, x1, y1 = box
    cut = x1 - x0
    if fraction < 1.0:
        cut = int(round((x1 - x0) * max(fraction, 0.0) / step)) * step
        if cut <= 0:
            return
    for n, (target, (premultiplied, inverse)) in enumerate(zip(targets, planes)):
        s = 1 if n == 0 else 2
        width = cut // s
        columns = slice(-width, None) if from_right else slice(0, width)
        left = x1 // s - width if from_right else x0 // s
        region = target[y0 // s : y1 // s, left : left + width]
        cv2.multiply(region, inverse[:, columns], dst=region, scale=1 / 255)
        cv2.add(region, premultiplied[:, columns], dst=region)


def wrap_units(text: str, chain: FontChain, max_width: float, max_units: int = 0) -> list[str]:
    """Lines of ``text`` by the Unicode line-breaking rules, measured with the
    real fonts (``breaking.wrap``); with ``max_units`` a line holds at most that
    many highlight units (words, or CJK characters)."""
    lines = breaking.wrap(text, chain, max_width)
    if not max_units:
        return lines
    out = []
    for line in lines:
        pieces = breaking.units(line)
        for k in range(0, len(pieces), max_units):
            out.append(text_span(line, pieces[k : k + max_units]))
    return out


def text_span(text: str, pieces: Sequence[str]) -> str:
    """The stretch of ``text`` from the first of ``pieces`` to the last (so
    the spaces between them, or their absence, are the text's own)."""
    start = text.find(pieces[0])
    end = start
    for piece in pieces:
        end = text.find(piece, end) + len(piece)
    return text[start:end]


@dataclass
class TextBox:
    """Rasterised text plus where each highlight unit sits."""

    image: Image.Image
    words: list[Image.Image]  # each unit drawn alone in the highlight colour
    word_xy: list[tuple[int, int]]  # top-left of each unit image inside ``image``
    rtl: bool = False
    missing: list[str] = field(default_factory=list)  # characters no bundled font has


@dataclass(frozen=True)
class TextLook:
    """The colours and strokes of one raster, in pixels of the frame."""

    fill: tuple[int, int, int] = (255, 255, 255)
    outline: tuple[int, int, int] = (0, 0, 0)
    stroke: int | None = None  # None: font size / 14
    box_rgba: tuple[int, int, int, int] = (0, 0, 0, 0)
    highlight: tuple[int, int, int] | None = None
    max_words_per_line: int = 0


def render_text_box(
    text: str,
    font: str | Path,
    *,
    width: int,
    font_size: int,
    max_lines: int,
    look: TextLook = TextLook(),
    language: str | None = None,
) -> TextBox:
    """Rasterise ``text`` wrapped to ``width``, with an outline and an optional box.

    ``font`` is a bundled family or a font file; characters it lacks come from
    the fallback chain (``FontChain``). The font shrinks until the text
    fits in ``max_lines`` lines. With a ``look.highlight`` every highlight
    unit is also drawn alone in that colour, so the one being spoken can be
    pasted over the plain one.
    """
    pad = max(8, font_size // 3)
    stroke = max(2, font_size // 14) if look.stroke is None else look.stroke
    while True:
        chain = FontChain(font, font_size, language=language)
        lines = wrap_units(text, chain, width - 2 * pad - 2 * stroke, look.max_words_per_line)
        if len(lines) <= max_lines or font_size <= 12:
            break
        font_size = int(font_size * 0.9)
        stroke = max(0, min(stroke, font_size // 8))
    ascent, descent = chain.metrics(text)
    line_h = int((ascent + descent) * 1.08)
    widths = [chain.length(line) for line in lines]
    box_w = int(max(widths)) + 2 * (pad + stroke)
    box_h = line_h * len(lines) + 2 * (pad + stroke)
    img = Image.new("RGBA", (box_w, box_h), look.box_rgba)
    draw = ImageDraw.Draw(img)
    outline = dict(stroke_width=stroke, stroke_fill=(*look.outline, 255))
    words, word_xy = [], []
    for i, (line, line_w) in enumerate(zip(lines, widths)):
        x = (box_w - line_w) / 2
        baseline = pad + stroke + i * line_h + ascent
        chain.draw(draw, (x, baseline), line, (*look.fill, 255), anchor="ls", **outline)
        if look.highlight is None:
            continue
        position = 0
        for unit in breaking.units(line):
            start = line.find(unit, position)
            position = start + len(unit)
            x0, _ = chain.span(line, start, position)
            layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
            chain.draw(
                ImageDraw.Draw(layer),
                (x + x0, baseline),
                unit,
                (*look.highlight, 255),
                anchor="ls",
                **outline,
            )
            bbox = layer.getbbox()
            if bbox:
                words.append(layer.crop(bbox))
                word_xy.append(bbox[:2])
    return TextBox(img, words, word_xy, is_rtl(text), chain.missing(text))
