"""Is rendering two videos at once faster than one after another?

One run, the same two 30 s 1080x1920 videos (the render benchmark's
workload), rendered four ways:

1. sequential          - VideoCreator.render twice;
2. threads             - VideoCreator.render_batch(jobs, max_workers=2) (a ThreadPoolExecutor);
3. processes (fork)    - the same two jobs in a ProcessPoolExecutor(2) whose
                         workers are forked (cheap, but unsafe from a process
                         that already runs threads, like the web server);
4. processes (spawn)   - the same with fresh interpreters (safe anywhere; each
                         imports moviepy, OpenCV, ... again).

Each is run ``--rounds`` times (default 2), the order rotated every round so
no mode always goes first; the table shows the median of each.

    python benchmarks/batch.py           # 1080x1920, 30 s each
    python benchmarks/batch.py --quick   # 720x1280, 10 s each, 1 round

Last line: batch_ratio=<threads / sequential> process_ratio=<fork / sequential>
spawn_ratio=<spawn / sequential> (1.0 = no gain; 0.5 = two videos in the time of one).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from render_inputs import make_narration, script  # noqa: E402  (the same workload)


def creator(size):
    from reelsmith.core.settings import RenderSettings, Settings
    from video_creator import VideoCreator

    return VideoCreator(Settings.build(render=RenderSettings(width=size[0], height=size[1])))


def jobs_for(folder: Path, size, seconds):
    """Two (timeline, output path) jobs, each with its own narration."""
    from reelsmith.render.timeline import Timeline

    jobs = []
    for i in range(2):
        work = folder / f"voice{i}"
        work.mkdir(parents=True, exist_ok=True)
        narration = make_narration(work, seconds)
        timeline = Timeline.narrated(narration, size=size, title=script().title, language="en")
        jobs.append((timeline, folder / f"video{i}.mp4"))
    return jobs


def render_one(args):
    size, (timeline, output_path) = args
    return str(creator(size).render(timeline, output_path).video_path)


def run_mode(mode: str, folder: Path, size, seconds) -> float:
    """Render the two jobs one way; return the wall time."""
    jobs = jobs_for(folder, size, seconds)
    t = time.perf_counter()
    if mode == "sequential":
        for timeline, output_path in jobs:
            creator(size).render(timeline, output_path)
    elif mode == "threads (max_workers=2)":
        results = creator(size).render_batch(jobs, max_workers=2)
        assert all(not isinstance(r, Exception) for r in results), results
    else:
        context = multiprocessing.get_context("fork" if "fork" in mode else "spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            list(pool.map(render_one, [(size, j) for j in jobs]))
    wall = time.perf_counter() - t
    assert all(output_path.exists() for _, output_path in jobs)
    return wall


MODES = ["sequential", "threads (max_workers=2)", "processes (fork)", "processes (spawn)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    size, seconds = ((720, 1280), 10.0) if args.quick else ((1080, 1920), 30.0)
    rounds = args.rounds or (1 if args.quick else 2)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="reelsmith-batch-") as tmp:
        for r in range(rounds):
            order = MODES[r % len(MODES) :] + MODES[: r % len(MODES)]
            for mode in order:
                folder = Path(tmp) / f"{r}-{MODES.index(mode)}"
                times[mode].append(run_mode(mode, folder, size, seconds))
                print(f"round {r + 1}: {mode:<24} {times[mode][-1]:6.1f} s", flush=True)
                shutil.rmtree(folder)

    rows = {mode: statistics.median(walls) for mode, walls in times.items()}
    seq = rows["sequential"]
    print(
        f"machine: {os.cpu_count()} cores; 2 videos of {seconds:.0f} s at {size[0]}x{size[1]}, "
        f"x264 medium; median of {rounds} round(s)"
    )
    print("| how | wall s | vs sequential |")
    print("|---|---|---|")
    for name, wall in rows.items():
        print(f"| {name} | {wall:.1f} | {wall / seq:.2f} |")
    print(
        f"batch_ratio={rows['threads (max_workers=2)'] / seq:.2f} "
        f"process_ratio={rows['processes (fork)'] / seq:.2f} "
        f"spawn_ratio={rows['processes (spawn)'] / seq:.2f}"
    )


if __name__ == "__main__":
    main()
