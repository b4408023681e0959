"""The default: the sentence, white with a dark outline, the spoken word in yellow."""

from reelsmith.captions.style import CaptionStyle

STYLE = CaptionStyle()
