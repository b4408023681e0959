"""examples_performance.py runs offline and shows what it claims."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_examples_run_offline():
    proc = subprocess.run(
        [sys.executable, "examples_performance.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1. cache: kept={'title': 'Three hearts'} expired=None" in out and "cleaned=1" in out
    assert "2. pooled generator: 9 requests over 1 TCP connection(s)" in out
    assert "3. batch: ['001.mp4', '002.mp4'] (2 results)" in out
    assert re.search(r"4\. API: answered 202 in \d+ ms; task done after [\d.]+ s", out)
