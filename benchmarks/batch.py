"""Is rendering two videos at once faster than one after another?

One run, the same two 30 s 1080x1920 videos (the render benchmark's
workload), rendered three ways:

1. sequential  - create_video twice;
2. threads     - create_videos_batch(jobs, max_workers=2) (a ThreadPoolExecutor);
3. processes   - the same two jobs in a ProcessPoolExecutor(2).

    python benchmarks/batch.py           # 1080x1920, 30 s each
    python benchmarks/batch.py --quick   # 720x1280, 10 s each

Last line: batch_ratio=<threads / sequential> process_ratio=<processes / sequential>
(1.0 = no gain; 0.5 = two videos in the time of one).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from render import make_narration, script  # noqa: E402  (the same workload)


def creator(size):
    from config import RenderSettings, Settings
    from video_creator import VideoCreator

    return VideoCreator(Settings(), render=RenderSettings(width=size[0], height=size[1]))


def jobs_for(folder: Path, size, seconds):
    from video_creator import RenderJob

    jobs = []
    for i in range(2):
        work = folder / f"voice{i}"
        work.mkdir(parents=True, exist_ok=True)
        jobs.append(RenderJob(script(), folder / f"video{i}.mp4", make_narration(work, seconds)))
    return jobs


def render_one(args):
    size, job = args
    return str(creator(size).create_video(job.script, job.output_path, job.narration).video_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size, seconds = ((720, 1280), 10.0) if args.quick else ((1080, 1920), 30.0)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="reelsmith-batch-") as tmp:
        tmp = Path(tmp)

        jobs = jobs_for(tmp / "seq", size, seconds)
        t = time.perf_counter()
        for job in jobs:
            creator(size).create_video(job.script, job.output_path, job.narration)
        rows["sequential"] = time.perf_counter() - t

        jobs = jobs_for(tmp / "threads", size, seconds)
        t = time.perf_counter()
        results = creator(size).create_videos_batch(jobs, max_workers=2)
        rows["threads (max_workers=2)"] = time.perf_counter() - t
        assert all(not isinstance(r, Exception) for r in results), results

        jobs = jobs_for(tmp / "processes", size, seconds)
        t = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(render_one, [(size, j) for j in jobs]))
        rows["processes (2)"] = time.perf_counter() - t

    seq = rows["sequential"]
    print(f"machine: {os.cpu_count()} cores; 2 videos of {seconds:.0f} s at {size[0]}x{size[1]}, "
          "x264 medium")
    print("| how | wall s | vs sequential |")
    print("|---|---|---|")
    for name, wall in rows.items():
        print(f"| {name} | {wall:.1f} | {wall / seq:.2f} |")
    print(f"batch_ratio={rows['threads (max_workers=2)'] / seq:.2f} "
          f"process_ratio={rows['processes (2)'] / seq:.2f}")


if __name__ == "__main__":
    main()
