"""Progress on the command line: plain lines in a pipe, a bar on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from app import create_app
from reelsmith.web.cli import Progress
from tests.helpers import child_env, tiny_settings
from tests.helpers.media import probe

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
SCRIPT = "Tea is a leaf. People brew it hot. Some drink it cold."


# -- progress in the CLI ------------------------------------------------------
PLAIN_LINE = re.compile(
    r"^(?P<stage>[a-z]+(?: \d+/\d+)?) (?P<pct>\d+)%(?: · about \d+ (?:s|min) left)?$"
)


def progress_lines(output: str) -> list[tuple[str, int]]:
    return [(m["stage"], int(m["pct"])) for m in map(PLAIN_LINE.match, output.splitlines()) if m]


def test_create_prints_plain_progress_lines_when_not_on_a_terminal(tmp_path):
    (tmp_path / "s.txt").write_text(SCRIPT)
    runner = create_app(
        {"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False}
    ).test_cli_runner()
    result = runner.invoke(
        args=[
            "create",
            "tea",
            "--script",
            str(tmp_path / "s.txt"),
            "--out",
            str(tmp_path / "tea.mp4"),
        ]
    )
    assert result.exit_code == 0, result.output
    lines = progress_lines(result.output)
    stages = [stage for stage, _ in lines]
    assert stages[:4] == ["script", "voice", "visuals", "render"] and stages[-1] == "done"
    assert lines[0] == ("script", 2) and lines[-1] == ("done", 100)
    percents = [pct for _, pct in lines]
    assert percents == sorted(percents)
    renders = [pct for stage, pct in lines if stage == "render"]
    assert len(renders) >= 5 and all(b - a >= 10 for a, b in zip(renders, renders[1:]))
    assert re.search(r"^render \d+% · about \d+ s left$", result.output, flags=re.M)
    assert "\r" not in result.output and "|" not in result.output  # no bar in a pipe


def test_batch_prints_the_whole_batch_progress(tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("tea\ncoffee\n")
    runner = create_app(
        {"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False}
    ).test_cli_runner()
    result = runner.invoke(
        args=["batch", str(topics), "--out", str(tmp_path / "v"), "--length", "10"]
    )
    assert result.exit_code == 0, result.output
    lines = progress_lines(result.output)
    stages = [stage for stage, _ in lines]
    assert {"script 1/2", "voice 1/2", "script 2/2", "voice 2/2", "render"} <= set(stages)
    assert stages.index("script 2/2") < stages.index("render") and lines[-1] == ("done", 100)
    percents = [pct for _, pct in lines]
    assert percents == sorted(percents) and percents[stages.index("script 2/2")] < 50
    assert sorted(p.name for p in (tmp_path / "v").glob("*.mp4")) == ["001.mp4", "002.mp4"]


def run_on_terminal(
    cmd: list[str], env: dict, cwd: Path, timeout: float = 120, size: tuple[int, int] = (100, 24)
) -> tuple[int, str]:
    """Run ``cmd`` with a pseudo-terminal (``size``: columns, rows) as its
    stdin, stdout and stderr; return its exit code and everything it wrote."""
    master, slave = pty.openpty()
    columns, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise AssertionError(f"no output for {timeout}s: {b''.join(chunks)!r}")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if proc.poll() is None and not chunks:
            proc.kill()
        proc.wait(timeout=30)
        os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", errors="replace")


def test_create_shows_a_bar_on_a_terminal(tmp_path):
    (tmp_path / "s.txt").write_text(SCRIPT)
    env = child_env(
        tmp_path,
        DATA_DIR=str(tmp_path / "data"),
        CACHE_DIR=str(tmp_path / "cache"),
        RENDER_WIDTH="180",
        RENDER_HEIGHT="320",
        RENDER_PRESET="veryfast",
        FLASK_SKIP_DOTENV="1",
        TERM="xterm",
    )
    code, output = run_on_terminal(
        [
            str(FLASK),
            "--app",
            str(ROOT / "app.py"),
            "create",
            "tea",
            "--script",
            "s.txt",
            "--out",
            "tea.mp4",
        ],
        env,
        tmp_path,
    )
    assert code == 0, output
    frames = output.split("\r")  # tqdm redraws its line in place
    bars = [f for f in frames if re.search(r"\d+%\|[█▏▎▍▌▋▊▉ ]+\|", f)]
    assert len(bars) >= 5, output
    assert any(re.match(r"\s*render\s+\d+%\|", f) for f in bars)
    assert any(re.search(r"render\s+\d+%\|.*\| about \d+ s left", f) for f in bars)
    assert any(re.match(r"\s*done\s+100%\|█+\|", f) for f in bars)
    assert not progress_lines(output.replace("\r", "\n"))  # no plain lines on a terminal
    assert "tea.mp4: " in output and probe(tmp_path / "tea.mp4").width == 180


@pytest.mark.parametrize("size", [(0, 0), (0, 24), (100, 0)])
def test_a_terminal_that_reports_no_size_still_gets_a_bar(tmp_path, size):
    """A pty made by `script` reports 0 x 0: tqdm drew nothing (or a bar one
    cell wide) there; the bar is drawn at a fixed width instead."""
    code = (
        "from reelsmith.web.cli import Progress\n"
        "with Progress() as report:\n"
        "    for i in range(11):\n"
        "        report('render', i / 10)\n"
    )
    status, output = run_on_terminal(
        [sys.executable, "-c", code], child_env(tmp_path), ROOT, timeout=60, size=size
    )
    assert status == 0, output
    bars = [f for f in output.split("\r") if re.search(r"render\s+\d+%\|", f)]
    assert len(bars) >= 5, repr(output)
    last = re.match(r"\s*render\s+100%\|(█+)\|", bars[-1])
    assert last and len(last[1]) >= 40, repr(bars[-1])
    assert max(len(line) for line in output.splitlines()) <= (size[0] or Progress.COLUMNS)


def test_the_flask_command_reads_env_in_its_folder_and_prints_plain_lines_in_a_pipe(tmp_path):
    """Flask's own .env loading (python-dotenv installed): the file in the
    current folder fills in, the environment wins."""
    (tmp_path / "s.txt").write_text(SCRIPT)
    (tmp_path / ".env").write_text(
        f"DATA_DIR={tmp_path / 'data'}\nCACHE_DIR={tmp_path / 'cache'}\n"
        "RENDER_WIDTH=180\nRENDER_HEIGHT=640\nRENDER_PRESET=veryfast\n"
    )
    result = subprocess.run(
        [
            str(FLASK),
            "--app",
            str(ROOT / "app.py"),
            "create",
            "tea",
            "--script",
            "s.txt",
            "--out",
            "tea.mp4",
        ],
        env=child_env(tmp_path, RENDER_HEIGHT="320"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    info = probe(tmp_path / "tea.mp4")
    assert (info.width, info.height) == (180, 320)  # width from .env, height from the environment
    assert (tmp_path / "data").is_dir()
    assert progress_lines(result.stderr)[-1] == ("done", 100) and "\r" not in result.stderr
    assert result.stdout.startswith("tea.mp4: ")  # the result alone on stdout
