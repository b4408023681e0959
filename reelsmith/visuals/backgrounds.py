"""What moves behind the words: the generated background, or per-sentence
images and clips (the user's, stock or generated images), with a slow
Ken-Burns zoom and a transition on each sentence boundary.

The generated background has a *look* per topic: a palette and one of
several motion families (gradients, particles, shapes, light), picked from
a stable hash of the topic and the script's mood (``mood_of``), so two
topics do not look alike.

Everything moves sub-pixel (no whole-pixel jitter) and is made in the
encoder's yuv420p: the generated background is composed at a quarter of the
frame size (an OpenCV warp, vectorised in RGBA) and upscaled plane by
plane; photos are zoomed at full size plane by plane with resizes
(``_Quadrants``). A frame costs 1.3-2.3 ms at 1080x1920 (`benchmarks/frame_cost.py`).
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reelsmith.core import yuv
from reelsmith.core.exceptions import RenderError

KEN_BURNS_ZOOM = 0.12  # the background zooms in by 12 % over the video
CLIP_FPS = 30  # clips are decoded at this rate (the render's default)

# -- the look of a topic ------------------------------------------------------
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


FAMILIES_TABLE: dict[str, Callable] = {
    "gradients": _Gradients,
    "particles": _Particles,
    "shapes": _Shapes,
    "light": _Light,
}
FAMILIES = tuple(FAMILIES_TABLE)


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
        seed: str,
        duration: float,
        ken_burns: bool,
        mood: str = "neutral",
    ):
        self.size = size
        self.duration = duration
        self.ken_burns = ken_burns
        self.look = Look.of(seed, mood)
        self.low_size = (max(2, size[0] // self.SCALE), max(2, size[1] // self.SCALE))
        self.motion = FAMILIES_TABLE[self.look.family](self.low_size, self.look)
        self.source = None  # the Ken-Burns base, unless the motion draws the whole view
        if not getattr(self.motion, "WHOLE_VIEW", False):
            margin = KEN_BURNS_ZOOM if ken_burns else 0.0
            rgb = np.asarray(make_background(self.low_size, seed, margin=margin, look=self.look))
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
        """The frame as yuv420p (yuv.py's I420 layout), upscaled
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


def _hsv(h, s, v):
    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, min(s, 1.0), min(v, 1.0)))


# -- per-sentence media ---------------------------------------------------------
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
CLIP_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv"}


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (keeping the aspect) and crop the middle."""
    h, w = image.shape[:2]
    scale = max(size[0] / w, size[1] / h)
    nw, nh = max(size[0], round(w * scale)), max(size[1], round(h * scale))
    resized = cv2.resize(
        image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    x, y = (nw - size[0]) // 2, (nh - size[1]) // 2
    return resized[y : y + size[1], x : x + size[0]]


class _Quadrants:
    """A plane cut in four about ``anchor`` (a corner between pixels), each
    quarter flipped once, at load, so that corner is its top-left: a zoom
    about the anchor is then four resizes.

    OpenCV's resize is 3-4x faster than its warpAffine, and exact for a zoom
    anchored at the top-left corner of the region it resizes. Flipping at
    load rather than every frame saves the flips and makes the resizes
    faster: a photo frame's median went from 2.61 to 2.26 ms
    (``benchmarks/frame_cost.py``, five interleaved runs each)."""

    FLIPS = {(False, False): None, (True, False): 1, (False, True): 0, (True, True): -1}
    """(left of the anchor, above it) -> cv2.flip's code for that quarter"""

    def __init__(self, plane: np.ndarray, anchor: tuple[int, int]):
        cx, cy = anchor
        self.parts = {}
        for (left, top), code in self.FLIPS.items():
            part = plane[
                (slice(0, cy) if top else slice(cy, None)),
                (slice(0, cx) if left else slice(cx, None)),
            ]
            self.parts[left, top] = np.ascontiguousarray(
                part if code is None else cv2.flip(part, code)
            )

    def zoom(self, a: float, dst: np.ndarray, fixed: tuple[int, int]) -> None:
        """Fill ``dst`` with the plane zoomed by 1/``a`` (bilinear, sub-pixel
        exact): ``dst`` pixel p shows the plane at anchor + (p - fixed + 0.5) * a
        - 0.5, so the corner between pixels at ``fixed`` in ``dst`` stays on the
        anchor (a zoom centred there)."""
        (qx, qy), (h, w) = fixed, dst.shape[:2]
        for (left, top), code in self.FLIPS.items():
            out = dst[
                (slice(0, qy) if top else slice(qy, h)), (slice(0, qx) if left else slice(qx, w))
            ]
            if not out.size:
                continue
            oh, ow = out.shape[:2]
            # Enough source for ow x oh pixels (and the resize's rounding of its size).
            nx, ny = math.ceil((ow + 1) * a) + 1, math.ceil((oh + 1) * a) + 1
            region = self.parts[left, top][:ny, :nx]
            if a != 1.0 and (round(nx / a) == nx or round(ny / a) == ny):
                # So close to 1:1 that resize would copy instead: the general warp.
                m = np.array([[a, 0.0, 0.5 * a - 0.5], [0.0, a, 0.5 * a - 0.5]])
                zoomed = cv2.warpAffine(
                    region,
                    m,
                    (ow, oh),
                    borderMode=cv2.BORDER_REPLICATE,
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                )
            else:
                zoomed = cv2.resize(
                    region, None, fx=1 / a, fy=1 / a, interpolation=cv2.INTER_LINEAR
                )[:oh, :ow]
            if code is None:
                out[...] = zoomed
            else:
                cv2.flip(zoomed, code, dst=out)


class _ImageSource:
    """A still image with a slow Ken-Burns zoom (centred) across its span.

    The image is kept as the encoder's I420 planes (half the bytes of RGB)
    and zoomed plane by plane; an RGB frame (previews) is converted from them."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from PIL import ImageOps

        self.size = size
        # The image covers the zoom's widest view plus a few pixels the resize reads
        # past it; its sides are multiples of 4, so the middle falls between pixels
        # in the luma and the half-size chroma planes alike.
        self.margin = tuple(4 * math.ceil((side * (1 + KEN_BURNS_ZOOM) + 12) / 4) for side in size)
        with Image.open(path) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        (sw, sh), planes = (
            self.margin,
            yuv.planes(
                yuv.frame_to_yuv(np.ascontiguousarray(_cover(rgb, self.margin))), *self.margin
            ),
        )
        # A chroma pixel covers a 2x2 block: chroma zooms about the same point at half the coordinates.
        self.planes = [
            _Quadrants(plane, (sw // 2 // d, sh // 2 // d)) for plane, d in zip(planes, (1, 2, 2))
        ]

    def frame(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return yuv.yuv_to_rgb(self.frame_yuv(local_t, span))

    def frame_yuv(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        """The frame as I420, each plane zoomed on its own."""
        w, h = self.size  # even, as every render size is
        p = min(max(local_t / span, 0.0), 1.0) if span > 0 else 0.0
        a = 1.0 + KEN_BURNS_ZOOM * (1.0 - p)  # source pixels per output pixel: widest view to 1:1
        out = np.empty((h * 3 // 2, w), np.uint8)
        for src, dst, d in zip(self.planes, yuv.planes(out, w, h), (1, 2, 2)):
            src.zoom(a, dst, (w // 4 * 2 // d, h // 4 * 2 // d))
        return out


class _ClipSource:
    """A video clip played from its start for each span, looped if it is shorter
    (and held on its first frame while a transition brings it in).

    ffmpeg decodes it, scales it to cover the frame, crops the middle and
    gives yuv420p at ``CLIP_FPS``: the frame the encoder takes, read from a
    pipe, instead of an RGB frame at the clip's own size to resize and convert
    in Python. Frames are read in order; going back (a new span, a preview)
    restarts ffmpeg, which decodes up to that time."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

        try:
            infos = ffmpeg_parse_infos(str(path))
        except OSError as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            reason = f" ({lines[-1]})" if lines else ""
            raise RenderError(
                f"{Path(path).name}: not a video clip ffmpeg can read{reason}"
            ) from exc
        self.path, self.size = Path(path), size
        w, h = size
        # Frames in the clip at CLIP_FPS (at least one); the true count is learnt at its end.
        self.count = max(1, int((infos.get("duration") or 0.0) * CLIP_FPS))
        self._filter = (
            f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bilinear,"
            f"crop={w}:{h},fps={CLIP_FPS},format=yuv420p"
        )
        self._proc: subprocess.Popen | None = None
        self._next = 0  # the index of the frame the pipe gives next
        self._last: tuple[int, np.ndarray] | None = None

    def _start(self, index: int) -> None:
        import imageio_ffmpeg

        self.close()
        self._proc = subprocess.Popen(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-nostdin",
                "-threads",
                "1",  # x264 has the cores; one decoding thread costs the least CPU
                "-i",
                str(self.path),
                "-ss",
                f"{index / CLIP_FPS:.4f}",
                "-an",
                "-sn",  # after -i: frames as if read in order
                "-vf",
                self._filter,
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._next = index

    def _read(self) -> np.ndarray | None:
        w, h = self.size
        buf = bytearray(w * h * 3 // 2)
        view, got = memoryview(buf), 0
        while got < len(buf):
            n = self._proc.stdout.readinto(view[got:])
            if not n:
                return None
            got += n
        self._next += 1
        return np.frombuffer(buf, np.uint8).reshape(h * 3 // 2, w)

    def frame_yuv(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        index = max(0, int(local_t * CLIP_FPS + 1e-6)) % self.count
        if self._last is not None and self._last[0] == index:
            return self._last[1].copy()
        if self._proc is None or index < self._next or index > self._next + 2 * CLIP_FPS:
            self._start(index)
        frame = None
        while self._next <= index:
            frame = self._read()
            if frame is None:  # the clip ended sooner than its stated length: loop there
                ended_at = self._next
                self.close()
                if ended_at == 0:
                    raise RenderError(f"{self.path.name}: ffmpeg gave no frames from this clip")
                self.count = ended_at
                return self.frame_yuv(local_t, span, t)
        self._last = (index, frame)
        return frame.copy()

    def frame(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return yuv.yuv_to_rgb(self.frame_yuv(local_t, span))

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc.stdout.close()
            self._proc = None


class _GeneratedSource:
    """The generated background standing in for one sentence's media (its
    motion follows the video's clock ``t``, so it never jumps)."""

    def __init__(self, background: Background):
        self.background = background

    def frame(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_at(t)

    def frame_yuv(self, local_t: float, span: float, t: float = 0.0) -> np.ndarray:
        return self.background.frame_yuv(t)


# -- transitions on sentence boundaries -----------------------------------------------
# A transition takes the outgoing and incoming frames, the progress p (0..1) and
# ``split``, which gives a frame's planes (an RGB frame is one; I420 has three).
def _ease(p: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(max(p, 0.0), 1.0))


def _crossfade(a: np.ndarray, b: np.ndarray, p: float, split=None) -> np.ndarray:
    """``a`` fades into ``b`` (linear in ``p``, so the boundary is an even blend;
    the same per byte in RGB and in YUV, which is affine in RGB)."""
    return cv2.addWeighted(a, 1.0 - p, b, p, 0)


def _slide(a: np.ndarray, b: np.ndarray, p: float, split=lambda f: (f,)) -> np.ndarray:
    """``b`` pushes ``a`` out to the left."""
    out = np.empty_like(a)
    width = a.shape[1]
    x = 2 * round(width * _ease(p) / 2)  # even, so the half-width chroma planes move with the luma
    for pa, pb, po in zip(split(a), split(b), split(out)):
        w = pa.shape[1]
        k = x * w // width
        po[:, : w - k] = pa[:, k:]
        po[:, w - k :] = pb[:, :k]
    return out


TRANSITIONS: dict[str, Callable[..., np.ndarray] | None] = {
    "cut": None,
    "crossfade": _crossfade,
    "slide": _slide,
}
MAX_TRANSITION_SECONDS = 2.0


class MediaBackground:
    """One image, clip or the generated background per sentence, in turn.
    Sentences in a row that get the same one (a single image for the whole
    video) share one span, so its Ken-Burns zoom (or the clip) runs on
    without a jump. ``None`` in ``paths`` is the generated background.

    ``transition`` (see ``TRANSITIONS``) blends span into span over
    ``transition_seconds``, centred on the boundary (the next sentence's
    start; shortened to fit short spans). Only the picture changes: the
    caption and audio times are not touched."""

    def __init__(
        self,
        paths: Sequence[Path | None],
        size,
        starts: Sequence[float],
        duration: float,
        *,
        seed: str = "",
        ken_burns: bool = True,
        mood: str = "neutral",
        transition: str = "cut",
        transition_seconds: float = 0.5,
    ):
        """``starts``: when each sentence starts; the first span starts at 0."""
        if transition not in TRANSITIONS:
            raise RenderError(f"unknown transition {transition!r}")
        opened: dict[Path | None, object] = {}
        for path in paths:
            if path in opened:
                continue
            suffix = Path(path).suffix.lower() if path is not None else None
            if path is None:
                opened[path] = _GeneratedSource(Background(size, seed, duration, ken_burns, mood))
            elif suffix in IMAGE_SUFFIXES:
                opened[path] = _ImageSource(Path(path), size)
            elif suffix in CLIP_SUFFIXES:
                opened[path] = _ClipSource(Path(path), size)
            else:
                raise RenderError(f"{Path(path).name}: not an image or video clip")
        starts = [0.0, *starts[1:]]
        ends = starts[1:] + [duration]
        self.size = size
        self.sources = list(opened.values())
        self.spans: list[tuple[float, float, object]] = []
        for i, (start, end) in enumerate(zip(starts, ends)):
            source = opened[paths[i % len(paths)]]
            if self.spans and self.spans[-1][2] is source:
                start = self.spans.pop()[0]
            self.spans.append((start, end, source))
        self.blend = TRANSITIONS[transition]
        # Half the transition at each boundary i (between span i-1 and span i).
        self.half = [0.0] + [
            0.5
            * min(
                transition_seconds,
                self.spans[i - 1][1] - self.spans[i - 1][0],
                self.spans[i][1] - self.spans[i][0],
            )
            if self.blend
            else 0.0
            for i in range(1, len(self.spans))
        ]

    def _span_frame(self, i: int, t: float, form: str) -> np.ndarray:
        start, end, source = self.spans[i]
        make = source.frame_yuv if form == "yuv" else source.frame
        return make(t - start, end - start, t)

    def _frame(self, t: float, form: str) -> np.ndarray:
        i = next((k for k, (_, end, _) in enumerate(self.spans) if t < end), len(self.spans) - 1)
        start, end, _ = self.spans[i]
        blend = self.blend is not None
        way_in = blend and i > 0 and t < start + self.half[i]  # its second half
        way_out = (
            blend and i + 1 < len(self.spans) and t >= end - self.half[i + 1]
        )  # its first half
        shown = {self.spans[k][2] for k in (i - 1 if way_in else i, i, i + 1 if way_out else i)}
        for source in self.sources:  # a clip's decoder stops as soon as no shown span needs it
            if isinstance(source, _ClipSource) and source not in shown:
                source.close()
        frame = self._span_frame(i, t, form)
        split = (lambda f: yuv.planes(f, *self.size)) if form == "yuv" else (lambda f: (f,))
        if way_in:
            h = self.half[i]
            return self.blend(
                self._span_frame(i - 1, t, form), frame, (t - start + h) / (2 * h), split
            )
        if way_out:
            h = self.half[i + 1]
            return self.blend(
                frame, self._span_frame(i + 1, t, form), (t - end + h) / (2 * h), split
            )
        return frame

    def frame_at(self, t: float) -> np.ndarray:
        return self._frame(t, "rgb")

    def frame_yuv(self, t: float) -> np.ndarray:
        """The frame as yuv420p (yuv.py): photos are zoomed and clips decoded
        in that form, and transitions blend the planes, so no frame is converted."""
        return self._frame(t, "yuv")

    def close(self) -> None:
        for source in self.sources:
            if isinstance(source, _ClipSource):
                source.close()


def make_scene(
    size,
    *,
    seed: str,
    duration: float,
    ken_burns: bool,
    media: Sequence[Path | None],
    starts: Sequence[float],
    text: str = "",
    transition: str = "cut",
    transition_seconds: float = 0.5,
):
    """The background for a video: the generated one when there is no media
    (in the look of ``seed`` and the mood of ``text``), else ``MediaBackground``."""
    mood = mood_of(text)
    if not media or all(path is None for path in media):
        return Background(size, seed, duration, ken_burns, mood)
    return MediaBackground(
        media,
        size,
        starts,
        duration,
        seed=seed,
        ken_burns=ken_burns,
        mood=mood,
        transition=transition,
        transition_seconds=transition_seconds,
    )
