"""What one 1080x1920 frame costs, piece by piece (milliseconds, median of 60).

The render benchmark times whole videos; this shows where a frame's time
goes, and why the frame path is built the way it is. OpenCV runs on one
thread, as in a render, and every row but the first and the last makes
what the render makes, yuv420p:

* background, Pillow: the full frame resized from a sub-pixel crop box, in
  RGB (what a straightforward Ken-Burns does);
* background, ours: a sub-pixel warp at quarter size, upscaled plane by plane;
* photo background: a full-size photo zoomed plane by plane (own images);
* caption blend: one premultiplied caption overlay into its box;
* whole frame: FrameMaker for a Ken-Burns frame with title and caption;
* yuv420p conversion of an RGB frame: what the render no longer does per frame.

    python benchmarks/frame_cost.py

Last line: pillow_bg_ms=… ours_bg_ms=… photo_bg_ms=… caption_ms=… frame_ms=… yuv_ms=…
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.captions.timing import Cue  # noqa: E402
from reelsmith.core import yuv  # noqa: E402
from reelsmith.render.frames import FrameMaker  # noqa: E402
from reelsmith.render.timeline import Timeline  # noqa: E402
from reelsmith.visuals.look import KEN_BURNS_ZOOM, Look, make_background, mood_of  # noqa: E402
from reelsmith.visuals.media import ImageSource  # noqa: E402
from reelsmith.visuals.motion import Background  # noqa: E402

SIZE = (1080, 1920)
RUNS = 60


def ms(fn) -> float:
    times = []
    for i in range(RUNS):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    cv2.setNumThreads(1)  # as in a render (render.encoder._opencv_threads)
    big = make_background(SIZE, "bench", margin=KEN_BURNS_ZOOM)
    W, H = big.size

    def pillow_bg(i):
        s = 1 - 0.001 * i
        box = ((W - W * s) / 2, (H - H * s) / 2, (W + W * s) / 2, (H + H * s) / 2)
        np.asarray(big.resize(SIZE, Image.Resampling.BILINEAR, box=box))

    ours = Background(SIZE, Look.of("bench"), duration=30, ken_burns=True)
    with tempfile.TemporaryDirectory() as tmp:  # a 1600x2400 "photo" of noise
        photo_file = Path(tmp) / "photo.png"
        noise = np.random.default_rng(1).random((2400, 1600, 3)) * 255
        Image.fromarray(noise.astype(np.uint8)).save(photo_file)
        photo = ImageSource(photo_file, SIZE)
    cues = [
        Cue(1, "Octopuses have three hearts, and each one has a different job to do.", 0.0, 29.0)
    ]
    timeline = Timeline.from_cues(
        cues, size=SIZE, duration=30, title="Why octopuses have three hearts"
    )
    frames = FrameMaker(replace(timeline, look=Look.of("bench", mood_of(cues[0].text))))
    canvas = ours.frame_at(1.0)
    planes = yuv.planes(ours.frame_yuv(1.0), *SIZE)
    caption = frames.captions.items[0].base

    rows = {
        "background, Pillow full-frame resize": ms(pillow_bg),
        "background, ours (quarter-size warp + upscale)": ms(lambda i: ours.frame_yuv(i / 30)),
        "photo background (full-size zoom)": ms(lambda i: photo.frame_yuv(i / 30, 5.0)),
        "caption blend (one overlay)": ms(lambda i: caption.apply_yuv(planes)),
        "whole frame (Ken-Burns, title, caption, word)": ms(
            lambda i: frames.yuv(i / 30 + 0.001 * i)
        ),
        "yuv420p conversion of an RGB frame (OpenCV)": ms(lambda i: yuv.frame_to_yuv(canvas)),
    }
    print(f"1080x1920 frame, median of {RUNS} (ms)")
    print("| step | ms |")
    print("|---|---|")
    for name, value in rows.items():
        print(f"| {name} | {value:.2f} |")
    v = list(rows.values())
    print(
        f"pillow_bg_ms={v[0]:.2f} ours_bg_ms={v[1]:.2f} photo_bg_ms={v[2]:.2f} "
        f"caption_ms={v[3]:.3f} frame_ms={v[4]:.2f} yuv_ms={v[5]:.2f}"
    )


if __name__ == "__main__":
    main()
