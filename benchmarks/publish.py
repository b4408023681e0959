"""What a YouTube upload costs in memory, and whether it survives a 503: a
500 MB file goes to the HTTPS fake of the Data API v3 (tests/helpers/
fake_platforms.py, in a child process so its memory is not counted), which
cuts one chunk midway with a 503. The app's Publisher does the upload, as the
background worker would.

    python benchmarks/publish.py              # 500 MB, 8 MB chunks (PUBLISH_CHUNK_MB's default)
    python benchmarks/publish.py --mb 50      # quicker

The last line is ``upload_rss_mb=<x> resumed=<1|0> bytes_identical=<1|0>``:
upload_rss_mb is the peak growth of this process's resident memory during the
upload (sampled every 10 ms), resumed whether the 503 was met and the upload
went on from the server's Range, bytes_identical whether the fake holds
exactly the file's bytes (SHA-256).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.core.settings import Settings  # noqa: E402
from reelsmith.core.storage import Files  # noqa: E402
from reelsmith.publish.request import PublishRequest  # noqa: E402
from reelsmith.publish.runner import Publisher  # noqa: E402
from tests.helpers.fake_platforms import TLS, FakeYouTube, digest  # noqa: E402

MB = 1024 * 1024


def serve(folder: Path, fail_at: int) -> None:
    """The child: the fake on a free port; prints its URL; stops when stdin closes."""
    with FakeYouTube(TLS(folder), folder, fail_at=fail_at) as fake:
        print(json.dumps({"url": fake.url, "credentials": fake.credentials()}), flush=True)
        sys.stdin.read()
        (folder / "stats.json").write_text(
            json.dumps({"failed": fake.failed, "sessions": fake.sessions})
        )


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--chunk-mb", type=float, default=8.0)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fail-at", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.fail_at)
    folder = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        run(folder, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, args) -> None:
    size = args.mb * MB
    fail_at = size // 2 + int(args.chunk_mb * MB) // 3  # inside a chunk, not on its edge
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(folder), "--fail-at", str(fail_at)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        fake = json.loads(child.stdout.readline())
        settings = Settings.build(
            data_dir=folder / "data",
            cache_dir=folder / "cache",
            retention_days=0,
            youtube_api_url=fake["url"],
            youtube_credentials=json.dumps(fake["credentials"]),
            ssl_cert_file=folder / "fake-ca.pem",
            publish_chunk_mb=args.chunk_mb,
            publish_backoff=0.5,
        )
        files = Files.from_settings(settings)
        files.prepare()
        task_id = uuid.uuid4().hex
        video = files.output_path(task_id)
        with open(video, "wb") as fh:  # random bytes: nothing compresses or dedupes
            for _ in range(args.mb):
                fh.write(os.urandom(MB))
        print(
            f"file: {args.mb} MB, chunks of {args.chunk_mb:g} MB, 503 at byte {fail_at}",
            file=sys.stderr,
        )
        publisher = Publisher(settings, files)
        ask = PublishRequest.parse({"platform": "youtube", "made_for_kids": False})
        pub = publisher.submit(task_id, {"title": "benchmark"}, ask, enqueue=False)
        base, peak, done = rss_mb(), [0.0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        final = publisher.run(pub.id)
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
        child.stdin.close()
        child.wait(30)
        stats = json.loads((folder / "stats.json").read_text())
        identical = final.status == "published" and digest(
            folder / "youtube-received.bin"
        ) == digest(video)
        resumed = final.status == "published" and stats["failed"] == 1 and stats["sessions"] == 1
        print(
            f"status={final.status} error={final.error} seconds={seconds:.1f} "
            f"MB/s={args.mb / seconds:.0f} base_rss_mb={base:.0f} notes={final.notes}",
            file=sys.stderr,
        )
        print(
            f"upload_rss_mb={peak[0] - base:.1f} resumed={int(resumed)} bytes_identical={int(identical)}"
        )
    finally:
        if child.poll() is None:
            child.kill()


if __name__ == "__main__":
    main()
