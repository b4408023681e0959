"""Do `threads=4, preset='medium'` make renders faster than moviepy's defaults?

The seed claimed "40-60 % faster rendering with optimized ffmpeg settings".
moviepy 2.2.1's own defaults are preset="medium" and threads=None (x264
picks). This renders the render benchmark's 30 s 1080x1920 Ken-Burns video
with each setting, one after another in one run, and reports time and size.

    python benchmarks/encoder_settings.py [--quick]

Last line: threads4_vs_default=<wall ratio> veryfast_vs_medium=<wall ratio>
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from render_inputs import make_narration, script  # noqa: E402  (the same workload)

VARIANTS = {
    "moviepy defaults (threads=None, medium)": {"threads": None, "preset": "medium"},
    "ours (threads=4, medium)": {"threads": 4, "preset": "medium"},
    "threads=4, veryfast": {"threads": 4, "preset": "veryfast"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="720x1280, 10 s")
    args = parser.parse_args()
    size, seconds = ((720, 1280), 10.0) if args.quick else ((1080, 1920), 30.0)

    from reelsmith.core.settings import RenderSettings, Settings
    from reelsmith.render.timeline import Timeline
    from video_creator import VideoCreator

    rows = {}
    with tempfile.TemporaryDirectory(prefix="reelsmith-enc-") as tmp:
        tmp = Path(tmp)
        narration = make_narration(tmp, seconds)
        timeline = Timeline.narrated(narration, size=size, title=script().title, language="en")
        for name, options in VARIANTS.items():
            render = RenderSettings(
                width=size[0], height=size[1], preset=options["preset"], threads=options["threads"]
            )
            out = tmp / f"{len(rows)}.mp4"
            started = time.perf_counter()
            VideoCreator(Settings.build(render=render)).render(timeline, out)
            rows[name] = (time.perf_counter() - started, out.stat().st_size / 1e6)

    base = rows["moviepy defaults (threads=None, medium)"][0]
    print(f"machine: {os.cpu_count()} cores; {seconds:.0f} s at {size[0]}x{size[1]}, Ken-Burns")
    print("| settings | wall s | vs defaults | file MB |")
    print("|---|---|---|---|")
    for name, (wall, mb) in rows.items():
        print(f"| {name} | {wall:.1f} | {wall / base:.2f} | {mb:.2f} |")
    print(
        f"threads4_vs_default={rows['ours (threads=4, medium)'][0] / base:.2f} "
        f"veryfast_vs_medium={rows['threads=4, veryfast'][0] / rows['ours (threads=4, medium)'][0]:.2f}"
    )


if __name__ == "__main__":
    main()
