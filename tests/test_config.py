"""Settings come from the environment once, into one object."""

from pathlib import Path

import pytest

from reelsmith.core.exceptions import ConfigError
from reelsmith.core.settings import RenderSettings, Settings


def test_environment_values_are_converted_to_their_types():
    settings = Settings.from_env(
        {
            "MUSIC_PATH": "/srv/music/bed.mp3",
            "CACHE_MAX_MB": "64",
            "WORKERS": "2",
            "RENDER_PRESET": "veryfast",
            "RENDER_THREADS": "2",
            "OPENAI_MODEL": "local-model",
        }
    )
    assert settings.music_path == Path("/srv/music/bed.mp3")
    assert settings.cache_max_mb == 64.0 and settings.workers == 2
    assert settings.openai_model == "local-model"
    assert settings.render == RenderSettings(preset="veryfast", threads=2)


def test_an_empty_optional_setting_is_unset():
    settings = Settings.from_env({"MUSIC_PATH": "", "OPENAI_API_KEY": "", "RENDER_THREADS": ""})
    assert settings.music_path is None and settings.openai_api_key is None
    assert settings.render.threads is None
    assert Settings.from_env({}).music_path is None


def test_bools_ints_and_lists_keep_their_real_types():
    for raw in ("1", "true", "YES", "on"):
        assert Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": raw}).webhook_allow_private is True
    for raw in ("0", "false", "No", "off"):
        assert Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": raw}).webhook_allow_private is False
    settings = Settings.from_env({"ALLOWED_HOSTS": "videos.lan, 192.168.1.5,", "WORKERS": "0"})
    assert settings.allowed_hosts == ("videos.lan", "192.168.1.5")
    assert settings.workers == 0 and type(settings.workers) is int
    assert Settings.from_env({}).webhook_allow_private is False


@pytest.mark.parametrize(
    "variable, raw, message",
    [
        ("WORKERS", "two", "'two' is not a whole number"),
        ("WEBHOOK_ALLOW_PRIVATE", "maybe", "'maybe' is not a yes/no value"),
        ("CACHE_MAX_MB", "lots", "'lots' is not a number"),
        ("RENDER_FPS", "29.97", "'29.97' is not a whole number"),
        ("RETENTION_DAYS", "-1", "must not be negative"),
        ("QUEUE_SIZE", "0", "must be at least 1"),
        ("IMAGES_PARALLEL", "0", "must be at least 1"),
        ("DATA_DIR", "", "is not a path"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(variable, raw, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: raw})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ") and message in str(caught.value)


def test_the_server_refuses_to_start_with_a_bad_setting(monkeypatch, capsys):
    from app import main

    monkeypatch.setenv("WORKERS", "many")
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0"])
    assert exited.value.code == 2
    assert "bad setting WORKERS: 'many' is not a whole number" in capsys.readouterr().err
