"""Bounded API load on 127.0.0.1: is creating and polling tasks fast, and is
every accepted task in the store afterwards?

The server is the real app (waitress, same thread count as `make run`, the
SQLite task store, the queue and its worker) in its own process, with the
renderer replaced by a no-op so only the API and the store are measured.
Clients: 2 processes x 32 threads = 64 concurrent keep-alive connections,
each doing POST /api/create then GET /api/task/<id>, for 20 s. The load is
bounded: together the clients start --rate creates per second (each client
on its own fixed schedule), so the latencies measure the server, not a queue
of our own making. --rate 0 removes the bound (closed loop, as fast as the
server answers: then latency is just clients / throughput).

    python benchmarks/api_load.py [--clients 64] [--seconds 20] [--rate 100]

Last line: create_p99_ms=… status_p99_ms=… errors=… lost=…
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROCESSES = 2


def serve(port: int, data_dir: str) -> None:
    """The server process: the real app with a no-op renderer."""
    from waitress import serve as waitress_serve

    from app import WAITRESS_THREADS, create_app
    from reelsmith.core.settings import Settings

    settings = Settings.build(
        data_dir=Path(data_dir), cache_dir=Path(data_dir) / "cache", queue_size=1_000_000
    )
    app = create_app({"SETTINGS": settings, "RUNNER": lambda task, report: {"noop": True}})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" is expected here
    try:
        waitress_serve(app, host="127.0.0.1", port=port, threads=WAITRESS_THREADS, _quiet=True)
    finally:
        app.extensions["reelsmith"].shutdown(10)


def client_process(port: int, threads: int, seconds: float, interval: float, out) -> None:
    """One client process: ``threads`` keep-alive connections, each starting a
    create + status pair every ``interval`` seconds (0: back to back)."""
    create_ms, status_ms, ids, errors = [], [], [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps({"topic": f"load test {os.getpid()}-{n}"})
        local_c, local_s, local_ids, local_err = [], [], [], 0
        next_at = time.monotonic() + interval * n / threads  # spread the clients out
        while time.monotonic() < stop_at:
            if interval:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            try:
                t0 = time.perf_counter()
                conn.request("POST", "/api/create", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                local_c.append((time.perf_counter() - t0) * 1000)
                if resp.status != 202:
                    local_err += 1
                    continue
                task_id = json.loads(data)["task_id"]
                local_ids.append(task_id)
                t0 = time.perf_counter()
                conn.request("GET", f"/api/task/{task_id}")
                resp = conn.getresponse()
                resp.read()
                local_s.append((time.perf_counter() - t0) * 1000)
                if resp.status != 200:
                    local_err += 1
            except (OSError, http.client.HTTPException):
                local_err += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()
        with lock:
            create_ms.extend(local_c)
            status_ms.extend(local_s)
            ids.extend(local_ids)
            errors.append(local_err)

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put({"create": create_ms, "status": status_ms, "ids": ids, "errors": sum(errors)})


def p(values, q):
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="creates per second from all clients together (0 = unbounded)",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(int(args.serve[0]), args.serve[1])

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="reelsmith-load-") as data_dir:
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), data_dir])
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.1)
            queue = multiprocessing.Queue()
            per = max(1, args.clients // PROCESSES)
            interval = PROCESSES * per / args.rate if args.rate else 0.0
            procs = [
                multiprocessing.Process(
                    target=client_process, args=(port, per, args.seconds, interval, queue)
                )
                for _ in range(PROCESSES)
            ]
            started = time.perf_counter()
            for proc in procs:
                proc.start()
            results = [queue.get() for _ in procs]
            for proc in procs:
                proc.join()
            elapsed = time.perf_counter() - started
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        db = sqlite3.connect(Path(data_dir) / "tasks.sqlite3")
        stored = {row[0] for row in db.execute("SELECT id FROM tasks")}
        db.close()

    create = [x for r in results for x in r["create"]]
    status = [x for r in results for x in r["status"]]
    ids = [x for r in results for x in r["ids"]]
    errors = sum(r["errors"] for r in results)
    lost = sum(1 for i in ids if i not in stored)
    bound = f"{args.rate:g} creates/s offered" if args.rate else "unbounded (closed loop)"
    print(
        f"machine: {os.cpu_count()} cores; {PROCESSES * per} clients for {args.seconds:g} s "
        f"on 127.0.0.1, {bound}; no-op renderer"
    )
    print("| request | count | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, values in (("POST /api/create", create), ("GET /api/task/<id>", status)):
        print(
            f"| {name} | {len(values)} | {p(values, 50):.1f} | {p(values, 90):.1f} | "
            f"{p(values, 99):.1f} | {max(values):.1f} |"
        )
    print(
        f"throughput: {(len(create) + len(status)) / elapsed:.0f} requests/s; "
        f"{len(ids)} tasks accepted, {len(stored)} in the store"
    )
    print(
        f"create_p99_ms={p(create, 99):.1f} status_p99_ms={p(status, 99):.1f} "
        f"errors={errors} lost={lost}"
    )


if __name__ == "__main__":
    main()
