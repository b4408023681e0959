"""What a stock clip behind the words costs per frame: decoded by moviepy
and covered and converted in Python (how the render did it, and how peers
do it) against ffmpeg scaling, cropping and converting it into the
encoder's yuv420p (``backgrounds.ClipSource``, how the render does it now).

Three 4 s H.264 clips (ffmpeg's testsrc2, 25 fps): portrait 1080x1920,
landscape 1920x1080 (covering a portrait frame means a 1.8x upscale) and
portrait 2160x3840 (4K stock), each made into 90 frames of a 1080x1920
video, side by side in one run. CPU counts the Python process and its
ffmpeg decoder (read from /proc before the decoder stops); wall is what the
render waits for each frame, on an otherwise idle machine (in a real render
x264 has the cores, so CPU is the figure that matters).

    python benchmarks/clips.py

Last line: portrait_speedup=… landscape_speedup=… uhd_speedup=… (CPU, before / now)
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.core import yuv  # noqa: E402
from reelsmith.visuals.media import ClipSource, cover  # noqa: E402
from tests.helpers.media import make_clip  # noqa: E402

SIZE, FRAMES = (1080, 1920), 90
CLIPS = {"portrait": "1080x1920", "landscape": "1920x1080", "uhd": "2160x3840"}


def _cpu_seconds(pid: int) -> float:
    """CPU time so far of a running process (user + system)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(frame, decoder_pid) -> tuple[float, float]:
    """(wall ms, CPU ms) per frame over FRAMES frames, after the first."""
    frame(0)
    cpu0, dec0, start = time.process_time(), _cpu_seconds(decoder_pid()), time.perf_counter()
    for i in range(1, FRAMES + 1):
        frame(i)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0 + _cpu_seconds(decoder_pid()) - dec0
    return wall / FRAMES * 1000, cpu / FRAMES * 1000


def main() -> None:
    from moviepy import VideoFileClip

    cv2.setNumThreads(1)  # as in a render
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in CLIPS.items():
            path = make_clip(Path(tmp) / f"{name}.mp4", seconds=4, size=size)
            clip = VideoFileClip(str(path), audio=False)
            before = _measure(
                lambda i: yuv.frame_to_yuv(cover(clip.get_frame(i / 30), SIZE)),
                lambda: clip.reader.proc.pid,
            )
            clip.close()
            source = ClipSource(path, SIZE)
            now = _measure(lambda i: source.frame_yuv(i / 30, 4.0), lambda: source._proc.pid)
            source.close()
            rows[name] = (size, before, now)
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"{FRAMES} frames of a 1080x1920 video per clip"
    )
    print(
        "| clip | before: wall ms | before: CPU ms | now: wall ms | now: CPU ms | CPU before / now |"
    )
    print("|---|---|---|---|---|---|")
    for name, (size, (bw, bc), (nw, nc)) in rows.items():
        print(f"| {name} {size} | {bw:.1f} | {bc:.1f} | {nw:.1f} | {nc:.1f} | {bc / nc:.2f} |")
    print(" ".join(f"{name}_speedup={bc / nc:.2f}" for name, (_, (_, bc), (_, nc)) in rows.items()))


if __name__ == "__main__":
    main()
