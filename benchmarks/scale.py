"""Scale-out benchmark: videos per minute with 1 and 2 worker processes, each
pinned to one CPU and one render thread; redelivery time after a SIGKILL;
cancel latency across processes; tasks lost.

A real redis-server on a loopback port, the web process (app.py, which only
enqueues) and workers started with ``flask --app app worker``, each with its
own DATA_DIR and a shared storage folder, as separate machines would.

    .venv/bin/python benchmarks/scale.py [--videos 8] [--seconds 10] [--size 720x1280]

Last line, exactly: ``scaling_efficiency=<x> redelivery_s=<y> lost=<n>`` where
efficiency = (videos/min with 2) / (2 x videos/min with 1).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.cluster import Cluster, call  # noqa: E402
from tests.helpers.redis_server import RedisServer  # noqa: E402

SENTENCES = [
    "Octopuses have three hearts and blue blood.",
    "Two hearts move blood to the gills.",
    "The third pumps it to the rest of the body.",
    "It pauses when they swim.",
    "That is why they prefer crawling.",
    "Their blood uses copper, not iron.",
]


def script_for(seconds: float) -> str:
    words, out = 0, []
    while words < seconds * 2.6:  # piper's pace is about 2.6 words a second
        sentence = SENTENCES[len(out) % len(SENTENCES)]
        out.append(sentence)
        words += len(sentence.split())
    return " ".join(out)


def run_batch(cluster: Cluster, count: int, script: str) -> tuple[float, list[str]]:
    """Wall time from the first task's creation to the last one's end, from
    the store's own timestamps (polled slowly, so the poller takes no CPU)."""
    ids = [cluster.create(script=script, topic=f"octopus {i}", length=15) for i in range(count)]
    ended = [
        cluster.wait(
            task_id, lambda t: t["status"] in ("done", "failed", "canceled"), limit=1800, every=1.0
        )
        for task_id in ids
    ]
    wall = max(t["finished_at"] for t in ended) - min(t["created_at"] for t in ended)
    return wall, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--size", default="720x1280")
    parser.add_argument("--heartbeat", type=float, default=20.0, help="ENGINE_HEARTBEAT_TIMEOUT")
    args = parser.parse_args()
    width, height = args.size.split("x")
    cpus = sorted(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix="reelsmith-scale-"))
    server = RedisServer(tmp / "redis").start()
    script = script_for(args.seconds)
    results, lost = {}, 0
    try:
        for workers in (1, 2):
            cluster = Cluster(tmp / f"run{workers}", server.url)
            cluster.overrides = {
                "RENDER_WIDTH": width,
                "RENDER_HEIGHT": height,
                "RENDER_THREADS": "1",
                "RENDER_PRESET": "veryfast",
                "RENDER_FPS": "30",
                "ENGINE_HEARTBEAT_TIMEOUT": str(args.heartbeat),
            }
            cluster.cpu = {f"w{i}": cpus[i % len(cpus)] for i in range(workers)}
            try:
                cluster.start_web()
                for i in range(workers):
                    cluster.start_worker(f"w{i}")
                run_batch(cluster, 1, script)  # warm-up: voice, fonts, caches
                wall, ids = run_batch(cluster, args.videos, script)
                results[workers] = args.videos / wall * 60
                print(
                    f"{workers} worker(s): {args.videos} videos in {wall:.1f} s = "
                    f"{results[workers]:.2f} videos/min",
                    flush=True,
                )
                if workers == 2:
                    redelivery, cancel = kill_and_cancel(cluster, script, ids)
                lost += sum(1 for i in ids if cluster.task(i)["status"] != "done")
            finally:
                cluster.stop()
    finally:
        server.stop()
    efficiency = results[2] / (2 * results[1])
    print(
        f"| workers | videos/min |\n|---|---|\n| 1 | {results[1]:.2f} |\n| 2 | {results[2]:.2f} |"
    )
    print(f"cancel_s={cancel:.2f} (POST cancel to the render stopping on a worker)")
    print(f"scaling_efficiency={efficiency:.2f} redelivery_s={redelivery:.1f} lost={lost}")


def kill_and_cancel(cluster: Cluster, script: str, acknowledged: list) -> tuple[float, float]:
    """SIGKILL the worker rendering a task; seconds until another worker starts
    it again. Then cancel a render from the web: seconds until it stops."""
    cluster.start_worker("w-spare")  # capacity for the killed worker's share
    ids = [cluster.create(script=script, topic=f"kill {i}", length=15) for i in range(3)]
    acknowledged += ids  # answered 202: counted as lost unless done
    victim_task = ids[0]
    cluster.wait(victim_task, lambda t: t["stage"] == "render" and t["progress"] > 0.3, limit=600)
    os.kill(cluster.holder_pid(victim_task), signal.SIGKILL)
    killed_at = time.time()
    cluster.wait(victim_task, lambda t: t["attempts"] >= 2 or t["status"] != "running", limit=600)
    events = call(f"{cluster.base}/api/task/{victim_task}/events")[1]["events"]
    again = next(e["at"] for e in events if e["message"] == "started" and e["at"] > killed_at)
    redelivery = again - killed_at
    for task_id in ids:
        cluster.wait(task_id, lambda t: t["status"] in ("done", "failed"), limit=900)

    doomed = cluster.create(script=" ".join([script] * 3), topic="cancel me", length=45)
    cluster.wait(doomed, lambda t: t["stage"] == "render" and t["progress"] > 0.3, limit=600)
    asked = time.time()
    call(f"{cluster.base}/api/task/{doomed}/cancel", {}, method="POST")
    cluster.wait(doomed, lambda t: t["status"] == "canceled", limit=60)
    events = call(f"{cluster.base}/api/task/{doomed}/events")[1]["events"]
    stopped = next(e["at"] for e in events if e["message"] == "canceled while running")
    return redelivery, stopped - asked


if __name__ == "__main__":
    main()
