"""Read stream facts from a media file with the bundled ffmpeg (no ffprobe ships)."""

import re
import subprocess
from dataclasses import dataclass

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class MediaInfo:
    duration: float
    video: str | None  # e.g. "h264 (High)"
    pix_fmt: str | None
    width: int | None
    height: int | None
    fps: float | None
    audio: str | None  # e.g. "aac (LC)"
    sample_rate: int | None
    channels: str | None
    faststart: bool


def probe(path) -> MediaInfo:
    err = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    dur = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    video = re.search(
        r"Video: (\w+(?: \([^)]*\))?).*?, (\w+)(?:\([^)]*\))?, (\d+)x(\d+).*?, ([\d.]+) fps", err
    )
    audio = re.search(r"Audio: (\w+(?: \([^)]*\))?).*?, (\d+) Hz, (\w+)", err)
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    moov, mdat = head.find(b"moov"), head.find(b"mdat")
    return MediaInfo(
        duration=int(dur[1]) * 3600 + int(dur[2]) * 60 + float(dur[3]) if dur else 0.0,
        video=video[1] if video else None,
        pix_fmt=video[2] if video else None,
        width=int(video[3]) if video else None,
        height=int(video[4]) if video else None,
        fps=float(video[5]) if video else None,
        audio=audio[1] if audio else None,
        sample_rate=int(audio[2]) if audio else None,
        channels=audio[3] if audio else None,
        faststart=moov != -1 and (mdat == -1 or moov < mdat),
    )


def stream_duration(path, stream: str) -> float:
    """Decode one stream ('v' or 'a') fully and return how long it really is."""
    err = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-map", f"0:{stream}", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    times = re.findall(r"time=(\d+):(\d+):([\d.]+)", err)
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def mean_volume_db(path, start: float, end: float) -> float:
    """Mean loudness (dBFS) of the audio between start and end seconds."""
    err = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-ss",
            str(start),
            "-to",
            str(end),
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            "volumedetect",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.search(r"mean_volume: (-?[\d.]+|-inf) dB", err)[1].replace("-inf", "-200"))


def loudness(path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the audio, measured by ffmpeg's ebur128 filter."""
    err = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    summary = err[err.rfind("Summary:") :]
    return (
        float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1]),
        float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)[1]),
    )


def make_clip(path, seconds=2.0, size="320x240", color_source="testsrc2"):
    """A small real H.264 clip made by the bundled ffmpeg."""
    subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"{color_source}{':' if '=' in color_source else '='}size={size}:rate=25:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def make_tone(path, seconds=3.0, frequency=5000, volume=0.5):
    """A sine tone audio file (any format ffmpeg writes from the suffix)."""
    subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:duration={seconds}:sample_rate=44100",
            "-af",
            f"volume={volume}",
            str(path),
        ],
        check=True,
    )
    return path


def band_volume_db(path, start, end, frequency) -> float:
    """Mean level (dBFS) of a narrow band around ``frequency`` between start and end."""
    err = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-ss",
            str(start),
            "-to",
            str(end),
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            f"bandpass=f={frequency}:width_type=h:w=100,bandpass=f={frequency}:width_type=h:w=100,"
            "volumedetect",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.search(r"mean_volume: (-?[\d.]+|-inf) dB", err)[1].replace("-inf", "-200"))


def corner_colour(path, t: float, size: int = 20):
    """Mean RGB of the top-left ``size`` x ``size`` pixels of the frame at ``t`` seconds."""
    import numpy as np
    from PIL import Image

    png = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-ss",
            str(t),
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "png",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    import io

    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))[:size, :size].reshape(-1, 3).mean(axis=0)


def decode_frame(path, size: tuple[int, int], *, n: int | None = None, t: float | None = None):
    """One decoded frame of ``path`` (``size`` = width, height) as an HxWx3
    RGB array: frame number ``n`` exactly, or the frame at ``t`` seconds."""
    import numpy as np

    where = ["-ss", f"{t:.3f}"] if t is not None else []
    pick = ["-vf", f"select=eq(n\\,{n})"] if n is not None else []
    raw = subprocess.run(
        [FFMPEG, "-v", "error", *where, "-i", str(path), *pick]
        + ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)
