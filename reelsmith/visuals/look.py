"""The look of a topic: a palette and one of several motion families
(``motion.py``), picked from a stable hash of the topic and the script's
mood (``mood_of``), so two topics do not look alike; and the still base of
the generated background (``make_background``)."""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KEN_BURNS_ZOOM = 0.12  # a background zooms in by 12 % over its span
# The motion families (``motion.MOTIONS``), in the order the hash picks them by.
FAMILIES = ("gradients", "particles", "shapes", "light")

# mood: (first hue, hue range, saturation, brightness, speed). The hash picks
# a hue inside the range, so the mood sets the temperature and the topic the rest.
MOODS = {
    "calm": (0.42, 0.30, 0.45, 0.42, 0.6),
    "bright": (0.02, 0.20, 0.75, 0.60, 1.2),
    "dark": (0.62, 0.25, 0.55, 0.24, 0.8),
    "energetic": (0.88, 0.22, 0.85, 0.55, 1.6),
    "neutral": (0.0, 1.0, 0.62, 0.40, 1.0),
}
_MOOD_WORDS = {
    "calm": "calm sleep sleeping rest quiet slow peace peaceful relax breathe breath ocean sea "
    "rain water gentle soft dream forest tree trees meditation mind",
    "bright": "sun sunny happy joy fun summer bright light smile laugh warm gold golden color "
    "colour colorful flower flowers love friend friends",
    "dark": "dark night death die dead danger dangerous fear scary war storm black shadow crime "
    "mystery ghost deep poison killer",
    "energetic": "fast speed power powerful energy run running sport race win explode explosion "
    "fire strong jump rocket wild battle",
}
_MOOD_OF_WORD = {w: mood for mood, words in _MOOD_WORDS.items() for w in words.split()}


def mood_of(text: str) -> str:
    """The script's mood from its words (one of ``MOODS``; "neutral" when no word says)."""
    counts: dict[str, int] = {}
    for word in re.findall(r"[^\W\d_]+", text.lower()):
        mood = _MOOD_OF_WORD.get(word)
        if mood:
            counts[mood] = counts.get(mood, 0) + 1
    return max(counts, key=lambda m: (counts[m], m)) if counts else "neutral"


@dataclass(frozen=True)
class Look:
    """A topic's palette (three RGB colours), motion family and pace."""

    family: str
    colours: tuple[tuple[int, int, int], ...]
    angle: float  # the gradient's direction, radians
    speed: float  # 1.0 = the default pace
    digest: bytes  # more stable randomness for the family's layout

    @classmethod
    def of(cls, seed: str, mood: str = "neutral") -> Look:
        mood = mood if mood in MOODS else "neutral"
        digest = hashlib.sha256(f"{seed}\0{mood}".encode()).digest()
        hue0, span, sat, val, speed = MOODS[mood]
        hue = (hue0 + digest[1] / 255 * span) % 1
        step = 0.06 + digest[2] / 255 * 0.22  # analogous to near-complementary
        colours = (
            _hsv(hue, sat, val),
            _hsv((hue + step) % 1, min(1, sat + 0.15), val * 0.35),
            _hsv((hue - step) % 1, sat * 0.8, min(1, val * 1.5)),
        )
        return cls(
            family=FAMILIES[digest[0] % len(FAMILIES)],
            colours=colours,
            angle=digest[3] / 255 * 2 * math.pi,
            speed=speed * (0.8 + digest[4] / 255 * 0.4),
            digest=digest,
        )


def make_background(
    size, seed: str, margin: float = 0.0, mood: str = "neutral", look: Look | None = None
) -> Image.Image:
    """The still base of the generated background: a soft gradient in the
    topic's palette, along the topic's angle, with blurred light blobs.
    ``margin`` makes the image that much larger than ``size`` for Ken-Burns."""
    look = look or Look.of(seed, mood)
    d = look.digest
    w = int(round(size[0] * (1 + margin)))
    h = int(round(size[1] * (1 + margin)))
    c1, c2, c3 = (np.array(c, np.float32) for c in look.colours)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = ((xx / w - 0.5) * math.cos(look.angle) + (yy / h - 0.5) * math.sin(look.angle)) + 0.5
    u = np.clip(u, 0, 1)[..., None]
    img = Image.fromarray((c1 * (1 - u) + c2 * u).astype(np.uint8))
    blobs = Image.new("RGB", (w, h), (0, 0, 0))
    draw = ImageDraw.Draw(blobs)
    for i in range(5):
        cx, cy = d[5 + i] / 255 * w, d[10 + i] / 255 * h
        r = (0.15 + d[15 + i] / 255 * 0.25) * w
        colour = tuple(int(v) for v in (c3 if i % 2 else c1))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    blobs = blobs.filter(ImageFilter.GaussianBlur(radius=max(2, w // 12)))
    return Image.blend(img, Image.fromarray(np.maximum(np.asarray(img), np.asarray(blobs))), 0.6)


def _hsv(h, s, v):
    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, min(s, 1.0), min(v, 1.0)))
