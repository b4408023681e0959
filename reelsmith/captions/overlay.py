"""Captions: their timing, their look (styles, presets, modes), their raster,
and the subtitle files (SRT, WebVTT and ASS) that carry them.

Timing. Each sentence is a ``Cue`` placed at the exact sample offsets of its
audio. Its ``words`` come from the voice (``SpeechSegment.words``, in
seconds of the sentence's own audio) shifted into video time; a segment
without timings gets an estimate by character count, and the render says so.

Look. A ``CaptionStyle`` holds everything a creator picks: font, size,
colours, outline, box, position, case, line limits and the mode:

* ``sentence`` - the whole sentence, the spoken word highlighted;
* ``words``    - 1-3 words at a time, popping in on their start;
* ``karaoke``  - the whole sentence, filled word by word as it is spoken;
* ``none``     - no captions (the subtitle files still have them).

``PRESETS`` names ready-made styles. ``parse_style`` turns a preset name or a
JSON object into a checked ``CaptionStyle`` (a bad value raises
``CaptionStyleError`` naming the field).

Raster. Everything is drawn once per video with Pillow into ``Overlay``s
(premultiplied RGBA pasted with two SIMD OpenCV calls); a frame only picks
which overlays to paste, so no mode costs render time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from reelsmith.captions import breaking, fonts
from reelsmith.captions.chain import FontChain, is_rtl
from reelsmith.core import yuv
from reelsmith.core.exceptions import ReelsmithError
from reelsmith.voice.synthesizer import Narration, WordTiming

FONTS = fonts.FAMILIES  # the bundled families a style can name
FONT_PATH = fonts.FAMILIES[fonts.DEFAULT_FAMILY].face().path


# -- timing -----------------------------------------------------------------
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


# -- styles -----------------------------------------------------------------
MODES = ("sentence", "words", "karaoke", "none")
POSITIONS = ("top", "middle", "bottom")
CASES = ("none", "upper", "lower")


class CaptionStyleError(ReelsmithError):
    """A caption style value that cannot be used; ``field`` names it."""

    stage = "request"

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CaptionStyle:
    """How captions look. Sizes are pixels at a 1080-pixel short side and
    scale with the frame; colours are ``#RRGGBB``."""

    mode: str = "sentence"  # sentence | words | karaoke | none
    font: str = "noto-sans"  # a bundled family, or an uploaded TTF/OTF (its path)
    size: int = 64  # 16-200
    text_color: str = "#FFFFFF"
    highlight_color: str = "#FFD60A"  # the spoken word (sentence, words) or the fill (karaoke)
    outline_color: str = "#000000"
    outline_width: int = 4  # 0-20
    box: bool = False  # a box behind the text
    box_color: str = "#000000"
    box_opacity: float = 0.6  # 0-1
    position: str = "middle"  # top | middle | bottom, always inside the safe area
    case: str = "none"  # none | upper | lower
    max_words_per_line: int = 0  # 0: as many as fit
    max_lines: int = 6  # 1-10
    words_per_group: int = 3  # words mode: 1-3 words on screen at once

    def rgb(self, name: str) -> tuple[int, int, int]:
        value = getattr(self, name)
        return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))

    def cased(self, text: str) -> str:
        return (
            text.upper() if self.case == "upper" else text.lower() if self.case == "lower" else text
        )

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, CaptionStyle] = {
    # The default: the sentence, white with a dark outline, the spoken word in yellow.
    "classic": CaptionStyle(),
    # Big, upper-case words two at a time, popping in as they are spoken.
    "pop": CaptionStyle(
        mode="words",
        font="anton",
        size=110,
        case="upper",
        words_per_group=2,
        highlight_color="#39FF88",
        outline_width=7,
    ),
    # The sentence fills with colour word by word, on a dark box at the bottom.
    "karaoke": CaptionStyle(
        mode="karaoke",
        font="poppins",
        size=60,
        highlight_color="#3FD0FF",
        box=True,
        box_opacity=0.55,
        outline_width=0,
        position="bottom",
    ),
    # A readable box, like broadcast subtitles.
    "boxed": CaptionStyle(
        size=56,
        box=True,
        box_opacity=0.7,
        outline_width=0,
        highlight_color="#FFB000",
        position="bottom",
        max_lines=3,
    ),
    # Small and quiet: no highlight, at most two lines at the bottom.
    "minimal": CaptionStyle(
        size=50, outline_width=2, highlight_color="#FFFFFF", position="bottom", max_lines=2
    ),
}
DEFAULT_PRESET = "classic"

_CHOICES = {"mode": MODES, "position": POSITIONS, "case": CASES}
STYLE_RANGES = {
    "size": (16, 200),
    "outline_width": (0, 20),
    "box_opacity": (0.0, 1.0),
    "max_words_per_line": (0, 20),
    "max_lines": (1, 10),
    "words_per_group": (1, 3),
}


def parse_style(value, fonts: dict[str, Path] | None = None) -> CaptionStyle:
    """A preset name, or an object of ``CaptionStyle`` fields (optionally with
    ``"preset"`` to start from). Raises ``CaptionStyleError`` naming the field."""
    fonts = FONTS if fonts is None else fonts
    if value is None or value == "":
        return PRESETS[DEFAULT_PRESET]
    if isinstance(value, str):
        if value not in PRESETS:
            raise CaptionStyleError(
                f"caption_style must be one of {', '.join(PRESETS)} or a style object",
                "caption_style",
            )
        return PRESETS[value]
    if not isinstance(value, dict):
        raise CaptionStyleError("caption_style must be a preset name or an object", "caption_style")
    data = dict(value)
    base = parse_style(data.pop("preset", DEFAULT_PRESET), fonts)
    known = {f.name: f for f in fields(CaptionStyle)}
    changes = {}
    for name, raw in data.items():
        where = f"caption_style.{name}"
        if name not in known:
            raise CaptionStyleError(
                f"{where} is not a caption style field (known: preset, {', '.join(known)})", where
            )
        default = getattr(base, name)
        if isinstance(default, bool):
            if not isinstance(raw, bool):
                raise CaptionStyleError(f"{where} must be true or false", where)
        elif isinstance(default, (int, float)):
            if (
                isinstance(raw, bool)
                or not isinstance(raw, (int, float))
                or (isinstance(default, int) and not float(raw).is_integer())
            ):
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise CaptionStyleError(f"{where} must be {kind}", where)
            raw = type(default)(raw)
            low, high = STYLE_RANGES[name]
            if not low <= raw <= high:
                raise CaptionStyleError(f"{where} must be between {low} and {high}", where)
        elif not isinstance(raw, str):
            raise CaptionStyleError(f"{where} must be a string", where)
        elif name.endswith("_color"):
            if not (
                len(raw) == 7
                and raw[0] == "#"
                and all(c in "0123456789abcdefABCDEF" for c in raw[1:])
            ):
                raise CaptionStyleError(f"{where} must be a colour like #FFD60A", where)
            raw = raw.upper()
        elif name in _CHOICES and raw not in _CHOICES[name]:
            raise CaptionStyleError(f"{where} must be one of {', '.join(_CHOICES[name])}", where)
        elif name == "font" and raw not in fonts:
            raise CaptionStyleError(
                f"{where} must be one of {', '.join(fonts)} (or upload a TTF/OTF file)", where
            )
        changes[name] = raw
    return replace(base, **changes)


# -- layout -----------------------------------------------------------------
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


# -- raster -----------------------------------------------------------------
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
            out.append(_join(line, pieces[k : k + max_units]))
    return out


def _join(text: str, pieces: Sequence[str]) -> str:
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


# -- on screen ----------------------------------------------------------------
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
                        _join(cue.text, [w.text for w in group]),
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


# -- subtitle files -----------------------------------------------------------
def _clock(t: float, sep: str = ",", hours: int = 2, frac: int = 3) -> str:
    units = 10**frac
    n = int(round(t * units))
    h, n = divmod(n, 3600 * units)
    m, n = divmod(n, 60 * units)
    s, n = divmod(n, units)
    return f"{h:0{hours}d}:{m:02d}:{s:02d}{sep}{n:0{frac}d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip: one cue per sentence."""
    return "".join(f"{c.index}\n{_clock(c.start)} --> {_clock(c.end)}\n{c.text}\n\n" for c in cues)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT with each word's start as an inline timestamp (karaoke-style
    cue timestamps, which players and editors use to time words)."""
    out = ["WEBVTT", ""]
    for c in cues:
        text = (
            " ".join(
                w.text if n == 0 else f"<{_clock(w.start, '.')}>{w.text}"
                for n, w in enumerate(c.words)
            )
            or c.text
        )
        out += [str(c.index), f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}", text, ""]
    return "\n".join(out) + "\n"


def _ass_colour(rgb: tuple[int, int, int], alpha: int = 0) -> str:
    r, g, b = rgb
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


def to_ass(
    cues: Sequence[Cue],
    style: CaptionStyle = PRESETS[DEFAULT_PRESET],
    size: tuple[int, int] = (1080, 1920),
) -> str:
    """Advanced SubStation Alpha with karaoke tags: ``{\\kf<cs>}`` before each
    word fills it over its spoken duration (Aegisub, players, editors)."""
    width, height = size
    scale = min(size) / 1080
    align = {"top": 8, "middle": 5, "bottom": 2}[style.position]
    layout = Layout.for_size(width, height)
    margin_v = (
        int(height * (1 - layout.caption_bottom_limit))
        if style.position == "bottom"
        else int(height * layout.caption_top_limit)
    )
    border = 3 if style.box else 1
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,Noto Sans,{int(style.size * scale)},"
        f"{_ass_colour(style.rgb('highlight_color'))},{_ass_colour(style.rgb('text_color'))},"
        f"{_ass_colour(style.rgb('outline_color'))},"
        f"{_ass_colour(style.rgb('box_color'), int(255 * (1 - style.box_opacity)))},"
        f"-1,0,0,0,100,100,0,0,{border},{style.outline_width * scale:.0f},0,{align},"
        f"{int(width * layout.caption_left)},{int(width * (1 - layout.caption_left - layout.caption_width))},"
        f"{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    for c in cues:
        parts, t = [], c.start
        for w in c.words:
            lead = int(round((w.start - t) * 100))
            if lead > 0:  # a silence before the word: nothing fills
                parts.append(f"{{\\k{lead}}}")
            dur = max(1, int(round((w.end - w.start) * 100)))
            parts.append(f"{{\\kf{dur}}}{style.cased(w.text)} ")
            t = w.start + dur / 100
        text = "".join(parts).rstrip() or style.cased(c.text)
        events.append(
            f"Dialogue: 0,{_clock(c.start, '.', 1, 2)},{_clock(c.end, '.', 1, 2)},"
            f"Default,,0,0,0,,{text}"
        )
    return "\n".join(header + events) + "\n"


SUBTITLE_FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}


def subtitles(
    cues: Sequence[Cue],
    fmt: str,
    style: CaptionStyle = PRESETS[DEFAULT_PRESET],
    size: tuple[int, int] = (1080, 1920),
) -> str:
    """The cues as a subtitle file in ``fmt`` (a key of ``SUBTITLE_FORMATS``);
    only ASS carries the style and the frame size."""
    if fmt == "ass":
        return to_ass(cues, style, size)
    return {"srt": to_srt, "vtt": to_vtt}[fmt](cues)


def cues_from_result(captions: Sequence[dict]) -> list[Cue]:
    """The cues stored in a task's result (``captions``), back as ``Cue``s."""
    return [
        Cue(
            i + 1,
            c["text"],
            c["start"],
            c["end"],
            [Word(w["text"], w["start"], w["end"]) for w in c.get("words", [])],
        )
        for i, c in enumerate(captions)
    ]
