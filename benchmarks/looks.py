"""What each generated look costs the encoder: 10 s of the background alone
(1080x1920, 30 fps, Ken-Burns, no captions), made as the render makes it
(yuv420p), then x264 medium on those frames by itself (three times, the
median kept). The ``icons`` row is the icons look (``visuals.icons``): three
icons handing over to each other on the octopus palette's still field.

The render's time is mostly x264's, and x264's depends on the picture:
what moves rigidly (a zoom, a pan, small particles) it predicts from the
last frame; what changes everywhere at once (a fade over the whole frame)
it has to code again. A look that doubles x264's time doubles the render's.

    python benchmarks/looks.py

Last line: gradients_s=… particles_s=… shapes_s=… light_s=… icons_s=… slowest_vs_fastest=…
icons_vs_slowest_generated=…
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from reelsmith.core.settings import RenderSettings  # noqa: E402
from reelsmith.render.encoder import raw_yuv_input, x264_video  # noqa: E402
from reelsmith.visuals.icons.drawing import Appearance, IconsBackground, IconShow  # noqa: E402
from reelsmith.visuals.icons.palette import palette_of  # noqa: E402
from reelsmith.visuals.look import FAMILIES, Look  # noqa: E402
from reelsmith.visuals.motion import Background  # noqa: E402

W, H, SECONDS = 1080, 1920, 10
ROUNDS = 3  # x264 runs per look, median kept (one run moves by ±15 % here)
X264 = x264_video(RenderSettings(preset="medium"))  # the render's encoder options


def main() -> None:
    cv2.setNumThreads(1)  # as in a render
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in (*FAMILIES, "icons"):
            if family == "icons":
                seed = "octopus: 🐙 ❤️ 🌊"
                show = IconShow(
                    palette_of("🐙"),
                    (
                        Appearance("🐙", 0.0, 3.5),
                        Appearance("❤️", 3.5, 7.0),
                        Appearance("🌊", 7.0, SECONDS),
                    ),
                )
                background = IconsBackground((W, H), show)
            else:
                seed = next(
                    f"topic {i}" for i in range(1000) if Look.of(f"topic {i}").family == family
                )
                background = Background((W, H), Look.of(seed), SECONDS, ken_burns=True)
            raw, out = Path(tmp) / f"{family}.yuv", Path(tmp) / f"{family}.mp4"
            with open(raw, "wb") as fh:
                for i in range(SECONDS * 30):
                    fh.write(background.frame_yuv(i / 30))
            walls = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                subprocess.run(  # x264 as the render runs it (medium, 4 threads)
                    [*raw_yuv_input((W, H), 30, source=str(raw)), *X264, "-threads", "4", str(out)],
                    check=True,
                )
                walls.append(time.perf_counter() - start)
            rows[family] = (statistics.median(walls), out.stat().st_size / 1e6, seed)
            raw.unlink()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"{W}x{H}, {SECONDS} s, 30 fps, x264 medium"
    )
    print("| look | topic | x264 s | MB |")
    print("|---|---|---|---|")
    for family, (secs, mb, seed) in rows.items():
        print(f"| {family} | {seed} | {secs:.1f} | {mb:.2f} |")
    times = [secs for secs, _, _ in rows.values()]
    slowest_generated = max(rows[family][0] for family in FAMILIES)
    print(
        " ".join(f"{family}_s={secs:.1f}" for family, (secs, _, _) in rows.items())
        + f" slowest_vs_fastest={max(times) / min(times):.2f}"
        + f" icons_vs_slowest_generated={rows['icons'][0] / slowest_generated:.2f}"
    )


if __name__ == "__main__":
    main()
