"""A readable box, like broadcast subtitles."""

from reelsmith.captions.style import CaptionStyle

STYLE = CaptionStyle(
    size=56,
    box=True,
    box_opacity=0.7,
    outline_width=0,
    highlight_color="#FFB000",
    position="bottom",
    max_lines=3,
)
