"""Caption styles: a ``CaptionStyle`` holds everything a creator picks:
font, size, colours, outline, box, position, case, line limits and the mode:

* ``sentence`` - the whole sentence, the spoken word highlighted;
* ``words``    - 1-3 words at a time, popping in on their start;
* ``karaoke``  - the whole sentence, filled word by word as it is spoken;
* ``none``     - no captions (the subtitle files still have them).

``STYLE_RANGES`` and the choices bound what a creator may set;
``reelsmith.captions.presets`` names ready-made styles and checks a creator's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from reelsmith.captions import fonts

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


CHOICES = {"mode": MODES, "position": POSITIONS, "case": CASES}
STYLE_RANGES = {
    "size": (16, 200),
    "outline_width": (0, 20),
    "box_opacity": (0.0, 1.0),
    "max_words_per_line": (0, 20),
    "max_lines": (1, 10),
    "words_per_group": (1, 3),
}
