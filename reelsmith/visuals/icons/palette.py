"""The icons look's colours, taken from the main icon itself: its glyph is
drawn with the bundled OpenMoji colour font, its outline (black) left out,
and its most colourful common colour sets the field's hue (an octopus gives
reds, a wave blues); a grey icon gives a grey field, light or dark as the
icon is. The field is kept dark enough for white captions (the top at most
``MAX_VALUE`` bright), as the generated looks are."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from reelsmith.captions.fonts import EMOJI_FONT, _package_dir

RGB = tuple[int, int, int]
MAX_VALUE = 0.42  # the field's brightest (HSV value): white captions keep their contrast
NEUTRAL = (96, 104, 120)  # no main icon: a slate field


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    package, name = EMOJI_FONT
    return ImageFont.truetype(str(_package_dir(package) / name), size)


@lru_cache(maxsize=64)
def glyph(emoji: str, size: int) -> Image.Image:
    """``emoji`` drawn in colour, RGBA, fitted into a ``size`` square."""
    em = max(8, int(size * 0.8))
    canvas = Image.new("RGBA", (em * 2, em * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((em, em), emoji, font=_font(em), embedded_color=True, anchor="mm")
    box = canvas.getbbox()
    if box is None:
        return Image.new("RGBA", (size, size), (0, 0, 0, 0))
    drawn = canvas.crop(box)
    scale = size / max(drawn.size)
    drawn = drawn.resize(
        (max(1, round(drawn.width * scale)), max(1, round(drawn.height * scale))),
        Image.Resampling.LANCZOS,
    )
    out = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    out.paste(drawn, ((size - drawn.width) // 2, (size - drawn.height) // 2))
    return out


@dataclass(frozen=True)
class Palette:
    """The field's top and bottom colours and the glow behind the icon."""

    top: RGB
    bottom: RGB
    glow: RGB
    key: RGB  # the icon's own colour the others come from


def key_colour(emoji: str) -> RGB:
    """The icon's most colourful common colour (its black outline left out)."""
    rgba = np.asarray(glyph(emoji, 128))
    pixels = rgba[rgba[..., 3] > 200][:, :3]
    pixels = pixels[pixels.max(axis=1) > 48]  # not the outline
    if len(pixels) == 0:
        return (40, 40, 40)
    quant = Image.fromarray(pixels[None]).quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    colours = quant.getpalette()

    def weight(entry):
        count, i = entry
        r, g, b = colours[i * 3 : i * 3 + 3]
        return count * (0.2 + colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[1]), -i

    _, i = max(quant.getcolors(), key=weight)
    return tuple(colours[i * 3 : i * 3 + 3])


@lru_cache(maxsize=256)
def palette_of(emoji: str | None) -> Palette:
    """The field's colours from ``emoji``'s (None: a neutral slate)."""
    key = key_colour(emoji) if emoji else NEUTRAL
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in key))
    top_v = min(MAX_VALUE, 0.16 + 0.3 * v)
    return Palette(
        top=_hsv(h, s * 0.8, top_v),
        bottom=_hsv(h, min(1.0, s * 0.9 + 0.05), top_v * 0.45),
        glow=_hsv(h, s * 0.6, min(1.0, top_v * 1.45)),
        key=key,
    )


def _hsv(h: float, s: float, v: float) -> RGB:
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, min(s, 1.0), min(v, 1.0)))
