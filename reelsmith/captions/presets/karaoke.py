"""The sentence fills with colour word by word, on a dark box at the bottom."""

from reelsmith.captions.style import CaptionStyle

STYLE = CaptionStyle(
    mode="karaoke",
    font="poppins",
    size=60,
    highlight_color="#3FD0FF",
    box=True,
    box_opacity=0.55,
    outline_width=0,
    position="bottom",
)
