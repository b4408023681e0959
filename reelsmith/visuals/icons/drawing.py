"""The icons look: a calm field in the main icon's colours (a still gradient
with a soft glow where the icons stand) and a large icon per idea that pops
in when its word is spoken, floats, and hands over to the next.

Cheap to encode: the field never moves, so x264 skips its blocks; the icon
moves as a whole, by whole even pixels (a translation the encoder predicts
from the last frame), and changes size only while it pops in or leaves.
The icon's sprites are blended straight into the yuv420p frame.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFilter

from reelsmith.core import yuv
from reelsmith.visuals.icons.palette import Palette, glyph, palette_of

POP = 0.35  # seconds to pop in
LEAVE = 0.3  # seconds to leave
FLOAT_PERIOD = 4.0  # seconds for one float up and down
FLOAT_AMPLITUDE = 0.012  # of the frame's height
SPRITES = 12  # scaled sprites kept (about 2 MB each at 1080x1920; a pop makes a dozen)


@dataclass(frozen=True)
class Appearance:
    """One icon on screen: it pops in at ``start`` and leaves from ``end``."""

    emoji: str
    start: float
    end: float


@dataclass(frozen=True)
class IconShow:
    """Everything the icons look draws: the palette and the icons in turn."""

    palette: Palette
    appearances: tuple[Appearance, ...] = ()

    def during(self, t0: float, t1: float) -> tuple:
        """What frames from ``t0`` to ``t1`` depend on (a segment's key): the
        palette and the icons on screen then."""
        shown = [
            (a.emoji, a.start, a.end if a.end <= t1 else None)  # None: it leaves after t1
            for a in self.appearances
            if a.start <= t1 and t0 < a.end + LEAVE
        ]
        return (self.palette, tuple(shown))


def icon_box(size: tuple[int, int]) -> tuple[int, int, int]:
    """The icon's side and centre (x, y) in a frame of ``size``: large, above
    the captions and below the title."""
    w, h = size
    if h > w * 1.2:  # portrait: between the title and the captions' highest line
        side, centre_y = min(0.40 * w, 0.20 * h), 0.335
    elif w > h * 1.2:  # landscape
        side, centre_y = 0.34 * h, 0.38
    else:
        side, centre_y = 0.30 * h, 0.36
    return int(side) // 2 * 2, w // 2, int(h * centre_y)


def field(size: tuple[int, int], palette: Palette) -> np.ndarray:
    """The still field, RGB: top to bottom gradient plus a glow behind the icon."""
    w, h = size
    side, cx, cy = icon_box(size)
    top, bottom, glow = (
        np.array(c, np.float32) for c in (palette.top, palette.bottom, palette.glow)
    )
    v = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    base = top * (1 - v) + bottom * v
    yy, xx = np.ogrid[0:h, 0:w]
    r = np.hypot((xx - cx) / (side * 1.1), (yy - cy) / (side * 1.1)).astype(np.float32)
    light = (np.clip(1 - r, 0, 1) ** 2 * 0.6)[..., None]
    return np.clip(base * (1 - light) + glow * light + 0.5, 0, 255).astype(np.uint8)


class _Sprite:
    """An RGBA image with even sides, premultiplied, in RGB and yuv420p."""

    def __init__(self, rgba: np.ndarray):
        h, w = rgba.shape[:2]
        if h % 2 or w % 2:
            rgba = np.pad(rgba, ((0, h % 2), (0, w % 2), (0, 0)))
        self.h, self.w = rgba.shape[:2]
        self.rgba = rgba
        alpha = rgba[..., 3]
        small = cv2.resize(alpha, (self.w // 2, self.h // 2), interpolation=cv2.INTER_AREA)
        converted = yuv.frame_to_yuv(np.ascontiguousarray(rgba[..., :3]))
        self.yuv = [
            (((plane * a.astype(np.uint16) + 127) // 255).astype(np.uint8), 255 - a)
            for plane, a in zip(yuv.planes(converted, self.w, self.h), (alpha, small, small))
        ]

    def _rgb(self) -> tuple[np.ndarray, np.ndarray]:
        """The RGB form (previews, thumbnails): made when first asked for."""
        alpha = self.rgba[..., 3]
        return (
            ((self.rgba[..., :3] * alpha.astype(np.uint16)[..., None] + 127) // 255).astype(
                np.uint8
            ),
            np.repeat((255 - alpha)[..., None], 3, axis=2),
        )

    def paste(self, targets, x: int, y: int, form: str) -> None:
        """Blend into ``targets`` (one RGB frame, or the three yuv420p planes)
        with the top-left at the even point (x, y), cut at the frame's edges."""
        planes = self._rgb() if form == "rgb" else self.yuv
        for n, (target, (premultiplied, inverse)) in enumerate(
            zip(targets, [planes] if form == "rgb" else planes)
        ):
            s = 1 if form == "rgb" or n == 0 else 2
            th, tw = target.shape[:2]
            x0, y0 = x // s, y // s
            sx0, sy0 = max(0, -x0), max(0, -y0)
            x1, y1 = min(tw, x0 + premultiplied.shape[1]), min(th, y0 + premultiplied.shape[0])
            if x1 <= max(0, x0) or y1 <= max(0, y0):
                continue
            region = target[max(0, y0) : y1, max(0, x0) : x1]
            rh, rw = region.shape[:2]
            cv2.multiply(region, inverse[sy0 : sy0 + rh, sx0 : sx0 + rw], dst=region, scale=1 / 255)
            cv2.add(region, premultiplied[sy0 : sy0 + rh, sx0 : sx0 + rw], dst=region)


def _shadowed(emoji: str, side: int) -> np.ndarray:
    """The icon at ``side`` with a soft shadow below it, RGBA, with a margin."""
    pad = side // 8
    icon = glyph(emoji, side)
    canvas = Image.new("RGBA", (side + 2 * pad, side + 2 * pad), (0, 0, 0, 0))
    shadow = Image.new("L", canvas.size, 0)
    shadow.paste(icon.getchannel("A"), (pad, pad + side // 30))
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(1, side // 40))).point(
        lambda a: a * 45 // 100
    )
    canvas.putalpha(shadow)
    canvas.alpha_composite(icon, (pad, pad))
    return np.asarray(canvas)


def _ease_out_back(p: float) -> float:
    c = 1.6
    return 1 + (c + 1) * (p - 1) ** 3 + c * (p - 1) ** 2


class IconsBackground:
    """The icons look over a whole video: ``frame_at(t)`` (RGB) and
    ``frame_yuv(t)`` (yuv420p), as ``visuals.motion.Background`` gives them.
    With ``moving`` False (a still preview) icons neither float nor pop."""

    def __init__(self, size: tuple[int, int], show: IconShow, moving: bool = True):
        self.size = size
        self.show = show
        self.moving = moving
        self.side, self.cx, self.cy = icon_box(size)
        self._field = field(size, show.palette)
        self._field_yuv = yuv.frame_to_yuv(self._field)
        self._full: dict[str, np.ndarray] = {}
        self._sprites: OrderedDict = OrderedDict()

    def placements(self, t: float) -> list[tuple[str, float, float, int, int]]:
        """What shows at ``t``: (emoji, scale, opacity, dx, dy) for each icon."""
        out = []
        amp = FLOAT_AMPLITUDE * self.size[1]
        for a in self.show.appearances:
            if not (a.start <= t < a.end + LEAVE):
                continue
            if not self.moving:
                out.append((a.emoji, 1.0, 1.0, 0, 0))
                continue
            age = t - a.start
            scale, opacity = 1.0, 1.0
            if age < POP:
                p = age / POP
                scale, opacity = max(0.05, _ease_out_back(p)), min(1.0, p * 2.5)
            phase = 2 * math.pi * age / FLOAT_PERIOD
            dx, dy = 0.35 * amp * math.sin(phase / 2), -amp * math.sin(phase)
            if t >= a.end:
                q = (t - a.end) / LEAVE
                scale, opacity = scale * (1 - 0.35 * q), opacity * (1 - q)
                dy -= 0.05 * self.size[1] * q
            out.append((a.emoji, scale, opacity, round(dx), round(dy)))
        return out

    def _sprite(self, emoji: str, scale: float, opacity: float) -> _Sprite:
        key = (emoji, round(scale * 32), round(opacity * 16))
        if key in self._sprites:
            self._sprites.move_to_end(key)
            return self._sprites[key]
        if emoji not in self._full:
            self._full[emoji] = _shadowed(emoji, self.side)
        full = self._full[emoji]
        side = max(2, round(full.shape[0] * key[1] / 32))
        rgba = (
            full
            if side == full.shape[0]
            else cv2.resize(full, (side, side), interpolation=cv2.INTER_AREA)
        )
        if key[2] < 16:
            rgba = rgba.copy()
            rgba[..., 3] = (rgba[..., 3].astype(np.uint16) * key[2] // 16).astype(np.uint8)
        sprite = self._sprites[key] = _Sprite(rgba)
        if len(self._sprites) > SPRITES:
            self._sprites.popitem(last=False)
        return sprite

    def _draw(self, targets, t: float, form: str) -> None:
        for emoji, scale, opacity, dx, dy in self.placements(t):
            if opacity <= 0.02:
                continue
            sprite = self._sprite(emoji, scale, opacity)
            x = (self.cx + dx - sprite.w // 2) // 2 * 2
            y = (self.cy + dy - sprite.h // 2) // 2 * 2
            sprite.paste(targets, x, y, form)

    def frame_at(self, t: float) -> np.ndarray:
        frame = self._field.copy()
        self._draw([frame], t, "rgb")
        return frame

    def frame_yuv(self, t: float) -> np.ndarray:
        frame = self._field_yuv.copy()
        self._draw(yuv.planes(frame, *self.size), t, "yuv")
        return frame


def still(size: tuple[int, int], main: str | None, emoji: str | None) -> Image.Image:
    """One still frame of the icons look (a storyboard's thumbnail): the field
    of ``main``'s palette with ``emoji`` (None: no icon) in its place."""
    shown = (Appearance(emoji, 0.0, 1.0),) if emoji else ()
    background = IconsBackground(size, IconShow(palette_of(main), shown), moving=False)
    return Image.fromarray(background.frame_at(0.5))
