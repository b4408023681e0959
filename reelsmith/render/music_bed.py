"""A music bed fitted to the video: decoded once, looped with a crossfade or
trimmed with a fade-out to the video's length, faded in from its first sample.

The bed is made in numpy (one decode of the track, no extra ffmpeg pass) and
handed to the mix as 48 kHz stereo float samples; ``audio.master_audio``
ducks it under the voice and masters the whole to -14 LUFS.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import numpy as np

from reelsmith.core.exceptions import RenderError

RATE = 48000
FADE_IN = 0.4  # seconds: the music starts with the video, at most 0.5 s of fade-in
FADE_OUT = 2.0  # seconds at the video's end (at most a quarter of the video)
CROSSFADE = 2.0  # seconds where the end of the track overlaps its start again
KEEP_BYTES = 2_000_000  # files up to this size stay decoded in memory (2 at most, ~12 MB each)


def decode(path: Path, seconds: float | None = None) -> tuple[np.ndarray, float]:
    """A track (its first ``seconds`` if given) as 48 kHz stereo float32
    samples, shape (n, 2), and their integrated loudness (LUFS, EBU R128),
    in one ffmpeg run."""
    import imageio_ffmpeg

    proc = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            *(["-t", f"{seconds:.3f}"] if seconds else []),
            "-i",
            str(path),
            "-filter_complex",
            f"[0:a:0]aresample={RATE},aformat=channel_layouts=stereo,asplit[pcm][m];"
            "[m]ebur128=framelog=quiet[meter]",
            "-map",
            "[pcm]",
            "-f",
            "f32le",
            "-",
            "-map",
            "[meter]",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
    )
    samples = np.frombuffer(proc.stdout, dtype="<f4")
    log_text = proc.stderr.decode(errors="replace")
    if proc.returncode or samples.size < 2 * RATE // 10:  # under 0.1 s: nothing to play
        last = log_text.strip().splitlines()[-1:] or ["no audio"]
        raise RenderError(f"the music bed {Path(path).name} could not be read: {last[0]}")
    found = re.findall(r"I:\s+(-?[\d.]+) LUFS", log_text)
    loudness = float(found[-1]) if found and float(found[-1]) > -70 else -20.0
    return samples[: samples.size // 2 * 2].reshape(-1, 2), loudness


@functools.lru_cache(maxsize=2)  # about 12 MB a track of 30 s
def _decoded(path: str, size: int, mtime: float) -> tuple[np.ndarray, float]:
    data, loudness = decode(Path(path))
    data.flags.writeable = False
    return data, loudness


def decoded(path: Path, seconds: float) -> tuple[np.ndarray, float]:
    """``decode`` for a video of ``seconds``. A small file (a bundled track:
    about 0.5 MB for 30 s) is decoded whole and kept for the next video while
    it is unchanged; a larger one (an upload) only as far as the video goes."""
    stat = Path(path).stat()
    if stat.st_size > KEEP_BYTES:
        return decode(Path(path), seconds)
    return _decoded(str(path), stat.st_size, stat.st_mtime)


def fit(track: np.ndarray, samples: int, rate: int = RATE, out: np.ndarray | None = None):
    """``track`` made exactly ``samples`` long (in ``out`` if given): looped
    with an equal-power crossfade of ``CROSSFADE`` while too short, then cut
    with a fade-out of ``FADE_OUT``; with a fade-in of ``FADE_IN`` from the
    first sample."""
    if out is None:
        out = np.empty((samples, track.shape[1]), dtype=np.float32)
    overlap = min(int(CROSSFADE * rate), len(track) // 4)
    t = np.linspace(0.0, np.pi / 2, overlap, dtype=np.float32)[:, None]
    rise, fall = np.sin(t), np.cos(t)
    length = min(len(track), samples)
    out[:length] = track[:length]
    filled = length
    while filled < samples:  # the next round starts ``overlap`` before the end
        start = filled - overlap
        head = min(overlap, samples - start)
        out[start : start + head] = (
            out[start : start + head] * fall[:head] + track[:head] * rise[:head]
        )
        rest = min(len(track) - overlap, samples - filled)
        out[filled : filled + rest] = track[overlap : overlap + rest]
        filled += rest
    fade_in = min(int(FADE_IN * rate), samples)
    out[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)[:, None]
    fade_out = min(int(FADE_OUT * rate), samples // 4)
    if fade_out:
        out[samples - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)[:, None]
    return out


def write_bed(music: Path, seconds: float, dst: Path) -> float:
    """The bed for a video of ``seconds`` in ``dst``, as raw 48 kHz stereo
    float32 (``-f f32le``); returns the track's integrated loudness (LUFS)."""
    track, loudness = decoded(music, seconds)
    samples = int(round(seconds * RATE))
    out = np.memmap(dst, dtype="<f4", mode="w+", shape=(samples, 2))  # not on the heap
    fit(track, samples, out=out)
    out.flush()
    del out
    return loudness
