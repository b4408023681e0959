"""Big, upper-case words two at a time, popping in as they are spoken."""

from reelsmith.captions.style import CaptionStyle

STYLE = CaptionStyle(
    mode="words",
    font="anton",
    size=110,
    case="upper",
    words_per_group=2,
    highlight_color="#39FF88",
    outline_width=7,
)
