"""A private redis-server for tests: a free loopback port, a tmp folder, gone after.

``RedisServer(tmp_path).start()`` runs Debian's ``redis-server`` bound to
127.0.0.1 without persistence; ``persistent=True`` turns the append-only file
on (fsync at every write) so a restart keeps every acknowledged write.
``restart()`` kills it (SIGKILL: no chance to save) and starts it again on
the same port and folder. Tests skip with a message when the binary is missing.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
)


def require_redis() -> str:
    if REDIS_SERVER is None:
        pytest.skip(
            "redis-server is not installed (.ci/run installs Debian's redis-server; "
            "locally: apt-get install redis-server)"
        )
    return REDIS_SERVER


class RedisServer:
    def __init__(self, folder: Path, persistent: bool = False, port: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [
            require_redis(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--protected-mode",
            "yes",
        ]
        args += (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(
            args, stdout=(self.folder / "redis.log").open("ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        import redis

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "redis-server exited: " + (self.folder / "redis.log").read_text()[-2000:]
                )
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
