"""Small and quiet: no highlight, at most two lines at the bottom."""

from reelsmith.captions.style import CaptionStyle

STYLE = CaptionStyle(
    size=50, outline_width=2, highlight_color="#FFFFFF", position="bottom", max_lines=2
)
