"""What moves behind the words: the generated background, or the user's own
images and clips (one per sentence), with a slow Ken-Burns zoom.

Both are moved as sub-pixel warps (OpenCV, vectorised RGBA) rather than
full-frame resizes, so a frame costs about a millisecond at 1080x1920
(`benchmarks/frame_cost.py`).
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from exceptions import RenderError

KEN_BURNS_ZOOM = 0.12  # the background zooms in by 12 % over the video


class Background:
    """The generated background, still or with a slow Ken-Burns zoom.

    It is soft (gradient and blurred light), so it is generated and moved at
    a quarter of the frame size, then upscaled: a sub-pixel warp of a small
    image plus one SIMD resize per frame, about 1 ms at 1080x1920.
    """

    SCALE = 4

    def __init__(self, size: tuple[int, int], seed: str, duration: float, ken_burns: bool):
        self.size = size
        self.duration = duration
        self.ken_burns = ken_burns
        self.low_size = (max(2, size[0] // self.SCALE), max(2, size[1] // self.SCALE))
        margin = KEN_BURNS_ZOOM if ken_burns else 0.0
        rgb = np.asarray(make_background(self.low_size, seed, margin=margin))
        self.source = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)  # for _warp
        self._still = None if ken_burns else cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)

    def frame_at(self, t: float) -> np.ndarray:
        if self._still is not None:
            return self._still.copy()
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
        return cv2.resize(_warp(self.source, m, (lw, lh)), self.size, interpolation=cv2.INTER_LINEAR)


def _warp(rgba: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The RGB image of ``size`` whose pixel (x, y) is ``rgba`` at ``m @ (x, y, 1)``
    (sub-pixel, bilinear). The source is RGBA because OpenCV's 4-channel warp
    is vectorised and its 3-channel one is not: warping RGBA and dropping the
    alpha gives the same pixels in well under half the time."""
    out = cv2.warpAffine(rgba, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
CLIP_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv"}


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (keeping the aspect) and crop the middle."""
    h, w = image.shape[:2]
    scale = max(size[0] / w, size[1] / h)
    nw, nh = max(size[0], round(w * scale)), max(size[1], round(h * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x, y = (nw - size[0]) // 2, (nh - size[1]) // 2
    return resized[y:y + size[1], x:x + size[0]]


class _ImageSource:
    """A still image with a slow Ken-Burns zoom across its span."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from PIL import ImageOps

        with Image.open(path) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        margin = (round(size[0] * (1 + KEN_BURNS_ZOOM)), round(size[1] * (1 + KEN_BURNS_ZOOM)))
        self.source = cv2.cvtColor(_cover(rgb, margin), cv2.COLOR_RGB2RGBA)  # for _warp
        self.size = size

    def frame(self, local_t: float, span: float) -> np.ndarray:
        sh, sw = self.source.shape[:2]
        p = min(max(local_t / span, 0.0), 1.0) if span > 0 else 0.0
        scale = 1.0 - KEN_BURNS_ZOOM / (1 + KEN_BURNS_ZOOM) * p
        bw, bh = sw * scale, sh * scale
        m = np.array([[bw / self.size[0], 0.0, (sw - bw) / 2], [0.0, bh / self.size[1], (sh - bh) / 2]])
        return _warp(self.source, m, self.size)


class _ClipSource:
    """A video clip played from its start for each span, looped if it is shorter."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from moviepy import VideoFileClip

        self.clip = VideoFileClip(str(path), audio=False)
        self.size = size

    def frame(self, local_t: float, span: float) -> np.ndarray:
        t = local_t % max(self.clip.duration - 1 / max(self.clip.fps, 1), 1e-3)
        return np.ascontiguousarray(_cover(self.clip.get_frame(t), self.size))

    def close(self) -> None:
        self.clip.close()


class MediaBackground:
    """The user's own images and clips: one per sentence, in turn. Sentences
    in a row that get the same one (a single image for the whole video) share
    one span, so its Ken-Burns zoom (or the clip) runs on without a jump."""

    def __init__(self, paths: Sequence[Path], size, starts: Sequence[float], duration: float):
        """``starts``: when each sentence starts; the first span starts at 0."""
        sources = []
        for path in paths:
            suffix = Path(path).suffix.lower()
            if suffix in IMAGE_SUFFIXES:
                sources.append(_ImageSource(Path(path), size))
            elif suffix in CLIP_SUFFIXES:
                sources.append(_ClipSource(Path(path), size))
            else:
                raise RenderError(f"{Path(path).name}: not an image or video clip")
        starts = [0.0, *starts[1:]]
        ends = starts[1:] + [duration]
        self.sources = sources
        self.spans: list[tuple[float, float, _ImageSource | _ClipSource]] = []
        for i, (start, end) in enumerate(zip(starts, ends)):
            source = sources[i % len(sources)]
            if self.spans and self.spans[-1][2] is source:
                start = self.spans.pop()[0]
            self.spans.append((start, end, source))

    def frame_at(self, t: float) -> np.ndarray:
        for start, end, source in self.spans:
            if t < end:
                break
        return source.frame(t - start, end - start)

    def close(self) -> None:
        for source in self.sources:
            if isinstance(source, _ClipSource):
                source.close()


def make_background(size, seed: str, margin: float = 0.0) -> Image.Image:
    """An offline background: a soft diagonal gradient with blurred light blobs.

    Colours are picked from a hash of ``seed`` so each topic looks different.
    ``margin`` makes the image that much larger than ``size`` for Ken-Burns.
    """
    w = int(round(size[0] * (1 + margin)))
    h = int(round(size[1] * (1 + margin)))
    digest = hashlib.sha256(seed.encode()).digest()
    hue = digest[0] / 255
    c1 = np.array(_hsv(hue, 0.65, 0.35))
    c2 = np.array(_hsv((hue + 0.12) % 1, 0.75, 0.12))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mix = ((xx / w) * 0.35 + (yy / h) * 0.65)[..., None]
    img = Image.fromarray((c1 * (1 - mix) + c2 * mix).astype(np.uint8))
    blobs = Image.new("RGB", (w, h), (0, 0, 0))
    draw = ImageDraw.Draw(blobs)
    for i in range(5):
        cx = digest[1 + i] / 255 * w
        cy = digest[6 + i] / 255 * h
        r = (0.15 + digest[11 + i] / 255 * 0.25) * w
        colour = _hsv((hue + 0.08 * i) % 1, 0.5, 0.45)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    blobs = blobs.filter(ImageFilter.GaussianBlur(radius=max(2, w // 12)))
    return Image.blend(img, Image.fromarray(np.maximum(np.asarray(img), np.asarray(blobs))), 0.6)


def _hsv(h, s, v):
    import colorsys

    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))
