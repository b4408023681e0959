"""The ffmpeg writer: frames made in yuv420p piped to x264, with the
mastered audio, and the small file helpers the render writes its outputs
with (under a temporary name, renamed into place when complete)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import proglog

from reelsmith.core.exceptions import RenderError
from reelsmith.core.settings import RenderSettings

PIPE_BUFFER = 1 << 20  # bytes; Linux's default 64 KiB pipe means ~50 wake-ups per frame
# The matrix OpenCV's RGB->I420 uses (BT.601, limited range), written into the file.
BT601_TAGS = [
    "-colorspace",
    "smpte170m",
    "-color_primaries",
    "smpte170m",
    "-color_trc",
    "smpte170m",
    "-color_range",
    "tv",
]

ProgressCallback = Callable[[float], None]


def encode_video(
    clip,
    path: Path,
    audio: Path,
    r: RenderSettings,
    *,
    size: tuple[int, int],
    fps: int,
    logger=None,
) -> None:
    """Encode a moviepy ``clip`` of yuv420p frames (``FrameMaker.yuv``) of
    ``size`` at ``fps`` and ``audio`` to ``path``, with ``r``'s codecs.

    moviepy's own writer pipes rgb24 and ffmpeg converts every frame to
    yuv420p (swscale, ~5 CPU-ms a frame at 1080x1920). Here the frames are
    made in yuv420p, the pipe carries half the bytes, and a repeated frame (a
    still background between two words) is the same array, written again
    without any work.
    Frames still come from moviepy's ``iter_frames``, so its progress logger
    (and a cancel raised from it) work as with ``write_videofile``.
    """
    cmd = [
        *raw_yuv_input(size, fps),
        "-i",
        str(audio),
        *x264_video(r),
        "-c:a",
        r.audio_codec,
        "-b:a",
        r.audio_bitrate,
        "-movflags",
        "+faststart",
    ]
    if r.threads:
        cmd += ["-threads", str(r.threads)]
    frames = clip.iter_frames(fps=fps, logger=logger, dtype="uint8")
    pipe_frames([*cmd, str(path)], frames, "the video")


def pipe_frames(cmd: list[str], frames: Iterable, what: str) -> None:
    """Run ffmpeg ``cmd`` (reading raw frames on its stdin) and write
    ``frames`` to it. ffmpeg stops with the loop: a cancel raised while the
    frames are made kills it. A failure is ``RenderError("ffmpeg could not
    encode <what>: <its reason>")``."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        try:
            with contextlib.suppress(AttributeError, OSError):  # not Linux: default pipe
                import fcntl

                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BUFFER)
            with opencv_threads(1):
                for frame in frames:
                    proc.stdin.write(frame)
            proc.stdin.close()
            proc.wait()
        except BrokenPipeError:  # ffmpeg stopped early; its log says why
            proc.wait()
        finally:
            if proc.poll() is None:  # canceled or failed in Python: stop ffmpeg too
                proc.kill()
                proc.wait()
        if proc.returncode:
            raise RenderError(f"ffmpeg could not encode {what}: {ffmpeg_cause(errors, proc)}")


def ffmpeg_cause(errors, proc) -> str:
    """The first line of ffmpeg's log (``errors``, a file): the cause; later
    ones only repeat that it failed."""
    errors.seek(0)
    lines = errors.read().decode(errors="replace").strip().splitlines()
    return re.sub(r"^\[[^]]*\]\s*", "", lines[0]) if lines else f"exit code {proc.returncode}"


@contextlib.contextmanager
def opencv_threads(n: int):
    """OpenCV on ``n`` threads for a while. While x264 keeps every core busy,
    OpenCV's own thread pool only adds hand-over costs: one thread makes the
    same frames with about 15 % less CPU (`benchmarks/render.py`)."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


class ProgressLogger(proglog.ProgressBarLogger):
    """Turns moviepy's frame counter into a 0..1 progress callback."""

    def __init__(self, callback: ProgressCallback):
        super().__init__()
        self._callback = callback

    def bars_callback(self, bar, attr, value, old_value=None):
        if bar == "frame_index" and attr == "index":
            total = self.bars[bar].get("total") or 0
            if total:
                self._callback(min(1.0, (value + 1) / total))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``path`` under a temporary name, then rename it into place."""
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def raw_yuv_input(size: tuple[int, int], fps: int, source: str = "-") -> list[str]:
    """ffmpeg reading raw I420 frames of ``size`` at ``fps`` from its stdin
    (or the file ``source``)."""
    import imageio_ffmpeg

    width, height = size
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        source,
    ]


def x264_video(r: RenderSettings) -> list[str]:
    """The video encoder's options, the same for a whole video and a segment."""
    return ["-c:v", r.codec, "-preset", r.preset, "-pix_fmt", "yuv420p", *BT601_TAGS]
