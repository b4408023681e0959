"""Caption styles: a ``CaptionStyle`` holds everything a creator picks:
font, size, colours, outline, box, position, case, line limits and the mode:

* ``sentence`` - the whole sentence, the spoken word highlighted;
* ``words``    - 1-3 words at a time, popping in on their start;
* ``karaoke``  - the whole sentence, filled word by word as it is spoken;
* ``none``     - no captions (the subtitle files still have them).

``PRESETS`` names ready-made styles. ``parse_style`` turns a preset name or a
JSON object into a checked ``CaptionStyle`` (a bad value raises
``CaptionStyleError`` naming the field).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from reelsmith.captions import fonts
from reelsmith.core.exceptions import CaptionStyleError

FONTS = fonts.FAMILIES  # the bundled families a style can name

MODES = ("sentence", "words", "karaoke", "none")
POSITIONS = ("top", "middle", "bottom")
CASES = ("none", "upper", "lower")


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
