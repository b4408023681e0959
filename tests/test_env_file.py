"""Settings from the .env file: the example names every setting, the file fills
what the environment does not set, and the environment wins."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from dotenv import dotenv_values

import app as app_module
from app import create_app, load_env_file
from reelsmith.core.settings import Settings
from tests.helpers import child_env, free_port, tiny_settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
SCRIPT = "Tea is a leaf. People brew it hot. Some drink it cold."


# -- .env -------------------------------------------------------------------
def example_lines() -> dict[str, str]:
    """NAME -> value of every ``#NAME=value`` line in .env.example."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^#([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.M))


def test_env_example_names_every_setting_with_its_default(tmp_path):
    listed = example_lines()
    # FLASK_RUN_FROM_CLI is set by the `flask` command, not by people.
    names = {variable for variable, *_ in Settings.variables()} - {"FLASK_RUN_FROM_CLI"}
    assert set(listed) == names, (
        "missing: "
        + ", ".join(sorted(names - set(listed)))
        + "; unknown: "
        + ", ".join(sorted(set(listed) - names))
    )
    # Uncommented, the file gives exactly the defaults (the folders relative to app.py).
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in listed.items()))
    values = dotenv_values(env_file)
    for name in ("DATA_DIR", "CACHE_DIR"):
        assert ROOT / values.pop(name) == getattr(Settings().storage, name.lower())
    assert Settings.from_env(values) == Settings()


def test_env_file_fills_what_the_environment_does_not_set(tmp_path, environ):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"DATA_DIR={tmp_path / 'from-file'}\nWORKERS=3\n"
        "OPENAI_MODEL=model-from-file\nFLASK_SKIP_DOTENV=\n"
    )
    for name in ("DATA_DIR", "WORKERS", "FLASK_SKIP_DOTENV"):
        environ.pop(name, None)
    environ["OPENAI_MODEL"] = "model-from-environment"
    assert load_env_file(env_file)
    settings = Settings.from_env()
    assert settings.storage.data_dir == tmp_path / "from-file" and settings.tasks.workers == 3
    assert settings.script.openai_model == "model-from-environment"  # the environment wins


def test_flask_skip_dotenv_turns_reading_off(tmp_path, environ):
    env_file = tmp_path / ".env"
    env_file.write_text("WORKERS=5\n")
    environ.pop("WORKERS", None)
    environ["FLASK_SKIP_DOTENV"] = "1"
    assert not load_env_file(env_file)
    assert "WORKERS" not in environ and Settings.from_env().tasks.workers == 1


def test_create_app_reads_no_env_file_in_tests(tmp_path, environ, monkeypatch):
    """Only the real app reads .env: a test's create_app (SETTINGS given, or no
    flask command) never does, whatever a developer keeps there."""
    env_file = tmp_path / ".env"
    env_file.write_text("QUEUE_SIZE=7\n")
    monkeypatch.setattr(app_module, "ENV_FILE", env_file)
    environ.pop("QUEUE_SIZE", None)
    environ.pop("FLASK_SKIP_DOTENV", None)
    environ["FLASK_RUN_FROM_CLI"] = "true"
    app = create_app({"SETTINGS": tiny_settings(tmp_path), "START_WORKERS": False})
    assert app.config["SETTINGS"].tasks.queue_size == 100 and "QUEUE_SIZE" not in environ
    environ["DATA_DIR"], environ["CACHE_DIR"] = str(tmp_path / "d"), str(tmp_path / "c")
    app = create_app({"START_WORKERS": False})  # what `flask --app app ...` builds
    assert app.config["SETTINGS"].tasks.queue_size == 7


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_app_py_reads_its_env_file_and_the_environment_wins(tmp_path):
    """``python app.py`` (what ``make run`` runs) reads .env before its settings."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"API_TOKEN=token-from-file\nDATA_DIR={tmp_path / 'data'}\n"
        f"CACHE_DIR={tmp_path / 'cache'}\nWORKERS=0\n"
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--env-file", str(env_file)],
        env=child_env(tmp_path, API_TOKEN="token-from-environment"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/status"
        deadline = time.monotonic() + 30
        while True:
            try:
                status = get(url, "token-from-environment")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    server.stdout.read().decode() if server.poll() is not None else "no answer"
                )
                time.sleep(0.1)
        assert status == 200
        assert get(url, "token-from-file") == 401  # the environment's token won
        assert (tmp_path / "data" / "tasks.sqlite3").is_file()  # DATA_DIR came from the file
    finally:
        server.send_signal(signal.SIGTERM)
        log = server.communicate(timeout=30)[0].decode()
    assert f"settings from {env_file}" in log
