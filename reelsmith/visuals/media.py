"""Per-sentence media: still images with a slow Ken-Burns zoom, and video
clips decoded by ffmpeg, both made in the encoder's yuv420p. Photos are
zoomed at full size plane by plane with resizes (``Quadrants``)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from reelsmith.core import yuv
from reelsmith.core.exceptions import RenderError
from reelsmith.visuals.look import KEN_BURNS_ZOOM

CLIP_FPS = 30  # clips are decoded at this rate (the render's default)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
CLIP_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv"}


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (keeping the aspect) and crop the middle."""
    h, w = image.shape[:2]
    scale = max(size[0] / w, size[1] / h)
    nw, nh = max(size[0], round(w * scale)), max(size[1], round(h * scale))
    resized = cv2.resize(
        image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    x, y = (nw - size[0]) // 2, (nh - size[1]) // 2
    return resized[y : y + size[1], x : x + size[0]]


class Quadrants:
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


class ImageSource:
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
                yuv.frame_to_yuv(np.ascontiguousarray(cover(rgb, self.margin))), *self.margin
            ),
        )
        # A chroma pixel covers a 2x2 block: chroma zooms about the same point at half the coordinates.
        self.planes = [
            Quadrants(plane, (sw // 2 // d, sh // 2 // d)) for plane, d in zip(planes, (1, 2, 2))
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


class ClipSource:
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
