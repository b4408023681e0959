"""The generated background: the topic's ``Look`` in motion. Each motion
family adds its moving layer to the warped base; everything moves
sub-pixel and is composed at a quarter of the frame size (an OpenCV warp,
vectorised in RGBA) and upscaled plane by plane into the encoder's
yuv420p. A frame costs 1.3-2.3 ms at 1080x1920 (`benchmarks/frame_cost.py`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from reelsmith.core import yuv
from reelsmith.visuals.look import KEN_BURNS_ZOOM, Look, make_background


# -- motion families: each adds its moving layer to the warped base (RGBA, low size) --
class _Gradients:
    """The colours flow into a second palette (the base's, turned): the view
    drifts back and forth across a larger canvas whose far side is in that
    palette, along the topic's angle. This family's motion replaces the
    Ken-Burns zoom: one rigid pan, which x264 predicts from the last frame
    (a fade over the whole frame took it twice the time and bits)."""

    EXTRA = 0.6  # the canvas is this much larger than the frame on each side
    WHOLE_VIEW = True  # apply() draws every pixel: Background makes no Ken-Burns base for it

    def __init__(self, size, look: Look):
        w, h = size
        cw, ch = round(w * (1 + self.EXTRA)), round(h * (1 + self.EXTRA))
        turned = Look(
            look.family,
            (look.colours[2], look.colours[0], look.colours[1]),
            look.angle + math.pi / 2,
            look.speed,
            look.digest[::-1],
        )
        base = np.asarray(make_background((cw, ch), "", look=look), np.float32)
        alt = np.asarray(make_background((cw, ch), "", look=turned), np.float32)
        direction = np.array([math.cos(look.angle), math.sin(look.angle)])
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        ramp = (xx / cw - 0.5) * direction[0] + (yy / ch - 0.5) * direction[1]
        ramp = np.clip(ramp / max(np.abs(ramp).max(), 1e-6) * 0.5 + 0.5, 0, 1)[..., None] * 0.7
        rgb = (base * (1 - ramp) + alt * ramp).astype(np.uint8)
        self.canvas = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)
        self.size = size
        # From the base's side of the canvas to the far side, as far as fits along the angle.
        half = np.array([(cw - w) / 2, (ch - h) / 2])
        reach = min(half[k] / abs(direction[k]) for k in (0, 1) if abs(direction[k]) > 1e-6)
        self.middle, self.travel = half, direction * reach
        self.period = 24.0 / look.speed  # there and back, seconds

    def apply(self, low: np.ndarray, t: float) -> None:
        q = -math.cos(2 * math.pi * t / self.period)  # -1 (base side) .. 1 (far side) and back
        x0, y0 = self.middle + q * self.travel
        m = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]])
        cv2.warpAffine(
            self.canvas,
            m,
            self.size,
            dst=low,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


class _Particles:
    """Soft bokeh particles of the palette drifting upwards, swaying."""

    def __init__(self, size, look: Look):
        w, h = size
        rng = np.random.default_rng(int.from_bytes(look.digest[:8], "little"))
        n = 14 + int(rng.integers(0, 14))
        self.size = size
        self.x = rng.uniform(0, w, n)
        self.y = rng.uniform(0, h, n)
        self.vy = rng.uniform(0.02, 0.08, n) * h * look.speed  # px per second
        self.sway = rng.uniform(0.01, 0.04, n) * w
        self.phase = rng.uniform(0, 2 * math.pi, n)
        self.sprites = []
        for i in range(n):
            r = max(2, int(rng.uniform(0.015, 0.06) * w))
            yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
            fall = np.clip(1 - (xx**2 + yy**2) / r**2, 0, 1) ** 1.5 * rng.uniform(0.35, 0.8)
            colour = np.array([*look.colours[2 if i % 3 else 0], 0], np.float32)
            self.sprites.append((fall[..., None] * colour).astype(np.uint8))

    def apply(self, low: np.ndarray, t: float) -> None:
        w, h = self.size
        for x0, y0, vy, sway, phase, sprite in zip(
            self.x, self.y, self.vy, self.sway, self.phase, self.sprites
        ):
            s = sprite.shape[0]
            x = int(x0 + sway * math.sin(phase + 0.6 * t)) - s // 2
            y = int((y0 - vy * t) % (h + s)) - s
            x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + s, w), min(y + s, h)
            if x1 < x2 and y1 < y2:
                roi = low[y1:y2, x1:x2]
                cv2.add(roi, sprite[y1 - y : y2 - y, x1 - x : x2 - x], dst=roi)


class _Shapes:
    """Outlined circles and polygons of the palette, slowly turning together."""

    def __init__(self, size, look: Look):
        self.size = size
        w, h = size = (max(2, size[0] // 2), max(2, size[1] // 2))  # drawn and turned at half size
        rng = np.random.default_rng(int.from_bytes(look.digest[8:16], "little"))
        side = int(math.hypot(w, h)) + 2
        layer = np.zeros((side, side, 4), np.uint8)
        for i in range(8 + int(rng.integers(0, 8))):
            c = (int(rng.uniform(0, side)), int(rng.uniform(0, side)))
            r = int(rng.uniform(0.05, 0.22) * w)
            colour = (*(int(v * 0.8) for v in look.colours[2 if i % 2 else 0]), 0)
            corners = int(rng.integers(0, 4))  # 0: a ring, else a triangle, square or pentagon
            if corners == 0:
                cv2.circle(layer, c, r, colour, 1, cv2.LINE_AA)
            else:
                a0 = rng.uniform(0, 2 * math.pi)
                pts = np.array(
                    [
                        (
                            c[0] + r * math.cos(a0 + 2 * math.pi * k / (corners + 2)),
                            c[1] + r * math.sin(a0 + 2 * math.pi * k / (corners + 2)),
                        )
                        for k in range(corners + 2)
                    ],
                    np.int32,
                )
                cv2.polylines(layer, [pts], True, colour, 1, cv2.LINE_AA)
        self.layer = layer
        self.half, self.side = size, side
        self.turn = (4.0 if look.digest[20] % 2 else -4.0) * look.speed  # degrees per second

    def apply(self, low: np.ndarray, t: float) -> None:
        w, h = self.half
        m = cv2.getRotationMatrix2D((self.side / 2, self.side / 2), self.turn * t, 1.0)
        m[:, 2] -= ((self.side - w) / 2, (self.side - h) / 2)  # the middle of the layer
        shapes = cv2.warpAffine(self.layer, m, (w, h), flags=cv2.INTER_LINEAR)
        cv2.add(low, cv2.resize(shapes, self.size, interpolation=cv2.INTER_LINEAR), dst=low)


class _Light:
    """Soft beams from a point above the frame, sweeping and breathing."""

    def __init__(self, size, look: Look):
        self.size = size
        w, h = size = (max(2, size[0] // 2), max(2, size[1] // 2))  # soft: made at half size
        d = look.digest
        self.half = size
        self.origin = ((0.15 + d[21] / 255 * 0.7) * w, -0.15 * h)
        side = int(2.4 * math.hypot(w, h))
        yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) - side / 2
        theta = np.arctan2(yy, xx)
        rays = (0.5 + 0.5 * np.cos(theta * (7 + d[22] % 6) + d[23] / 40)) ** 6
        fall = np.clip(1 - np.hypot(xx, yy) / (side / 2), 0, 1)
        colour = np.array([*look.colours[2], 0], np.float32) * 0.55
        self.layer = (rays[..., None] * fall[..., None] * colour).astype(np.uint8)
        self.side = side
        self.speed = look.speed

    def apply(self, low: np.ndarray, t: float) -> None:
        m = cv2.getRotationMatrix2D(
            (self.side / 2, self.side / 2), 6 * math.sin(0.35 * self.speed * t), 1.0
        )
        m[:, 2] -= (self.side / 2 - self.origin[0], self.side / 2 - self.origin[1])
        beams = cv2.resize(
            cv2.warpAffine(self.layer, m, self.half, flags=cv2.INTER_LINEAR),
            self.size,
            interpolation=cv2.INTER_LINEAR,
        )
        gain = 0.75 + 0.25 * math.sin(0.8 * self.speed * t)
        cv2.addWeighted(low, 1.0, beams, gain, 0, dst=low)


MOTIONS: dict[str, Callable] = {
    "gradients": _Gradients,
    "particles": _Particles,
    "shapes": _Shapes,
    "light": _Light,
}


class Background:
    """The generated background: the topic's look, still or moving (a slow
    Ken-Burns zoom of the base plus the family's motion).

    It is soft, so it is composed at a quarter of the frame size and
    upscaled: a sub-pixel warp of a small image, the motion layer and one
    SIMD resize per frame, 1-2 ms at 1080x1920.
    """

    SCALE = 4

    def __init__(
        self,
        size: tuple[int, int],
        look: Look,
        duration: float,
        ken_burns: bool,
    ):
        self.size = size
        self.duration = duration
        self.ken_burns = ken_burns
        self.look = look
        self.low_size = (max(2, size[0] // self.SCALE), max(2, size[1] // self.SCALE))
        self.motion = MOTIONS[look.family](self.low_size, self.look)
        self.source = None  # the Ken-Burns base, unless the motion draws the whole view
        if not getattr(self.motion, "WHOLE_VIEW", False):
            margin = KEN_BURNS_ZOOM if ken_burns else 0.0
            rgb = np.asarray(make_background(self.low_size, "", margin=margin, look=look))
            self.source = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)  # OpenCV warps 4 channels faster
        self._still = self._still_yuv = None
        if not ken_burns:
            low = self._low(0.0)
            self._still = self._upscale(low)
            self._still_yuv = self._upscale_yuv(low)

    def frame_at(self, t: float) -> np.ndarray:
        if self._still is not None:
            return self._still.copy()
        return self._upscale(self._low(t))

    def frame_yuv(self, t: float) -> np.ndarray:
        """The frame as yuv420p (core.yuv's I420 layout), upscaled
        plane by plane from the small image: half the bytes of an RGB
        upscale, and no full-size colour conversion afterwards."""
        if self._still_yuv is not None:
            return self._still_yuv.copy()
        return self._upscale_yuv(self._low(t))

    def _low(self, t: float) -> np.ndarray:
        """The small RGBA image at ``t``: the Ken-Burns warp plus the motion layer
        (or the motion alone, where it draws the whole view)."""
        if self.source is None:
            (lw, lh), at = self.low_size, t if self.ken_burns else 0.0
            low = np.empty((lh, lw, 4), np.uint8)
            self.motion.apply(low, at)
            return low
        if not self.ken_burns:
            low = self.source.copy()
            self.motion.apply(low, 0.0)
            return low
        # Zoom from the whole source to 1/(1+zoom) of it, easing in and out,
        # with a slight pan; the affine maps output pixels to source pixels.
        sh, sw = self.source.shape[:2]
        lw, lh = self.low_size
        p = 0.5 - 0.5 * math.cos(math.pi * min(max(t / self.duration, 0.0), 1.0))
        scale = 1.0 - KEN_BURNS_ZOOM / (1 + KEN_BURNS_ZOOM) * p
        bw, bh = sw * scale, sh * scale
        x0 = (sw - bw) * (0.5 + 0.3 * (p - 0.5))
        y0 = (sh - bh) * 0.5
        m = np.array([[bw / lw, 0.0, x0], [0.0, bh / lh, y0]])
        low = cv2.warpAffine(
            self.source,
            m,
            (lw, lh),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        self.motion.apply(low, t)
        return low

    def _upscale(self, low_rgba: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(low_rgba, cv2.COLOR_RGBA2RGB)
        return cv2.resize(rgb, self.size, interpolation=cv2.INTER_LINEAR)

    def _upscale_yuv(self, low_rgba: np.ndarray) -> np.ndarray:
        (w, h), (lw, lh) = self.size, self.low_size
        if lw % 2 or lh % 2:  # I420 needs even sides: convert the full-size frame instead
            return yuv.frame_to_yuv(self._upscale(low_rgba))
        small = cv2.cvtColor(cv2.cvtColor(low_rgba, cv2.COLOR_RGBA2RGB), cv2.COLOR_RGB2YUV_I420)
        out = np.empty((h * 3 // 2, w), np.uint8)
        for src, dst in zip(yuv.planes(small, lw, lh), yuv.planes(out, w, h)):
            cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=cv2.INTER_LINEAR)
        return out
