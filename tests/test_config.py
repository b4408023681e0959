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
    assert settings.render.music_path == Path("/srv/music/bed.mp3")
    assert settings.storage.cache_max_mb == 64.0 and settings.tasks.workers == 2
    assert settings.script.openai_model == "local-model"
    assert settings.render == RenderSettings(
        preset="veryfast", threads=2, music_path=Path("/srv/music/bed.mp3")
    )


def test_an_empty_optional_setting_is_unset():
    settings = Settings.from_env({"MUSIC_PATH": "", "OPENAI_API_KEY": "", "RENDER_THREADS": ""})
    assert settings.render.music_path is None and settings.script.openai_api_key is None
    assert settings.render.threads is None
    assert Settings.from_env({}).render.music_path is None


def test_bools_ints_and_lists_keep_their_real_types():
    for raw in ("1", "true", "YES", "on"):
        assert Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": raw}).tasks.webhook_allow_private is True
    for raw in ("0", "false", "No", "off"):
        assert (
            Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": raw}).tasks.webhook_allow_private is False
        )
    settings = Settings.from_env({"ALLOWED_HOSTS": "videos.lan, 192.168.1.5,", "WORKERS": "0"})
    assert settings.server.allowed_hosts == ("videos.lan", "192.168.1.5")
    assert settings.tasks.workers == 0 and type(settings.tasks.workers) is int
    assert Settings.from_env({}).tasks.webhook_allow_private is False


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


def test_settings_are_grouped_by_concern_and_built_from_flat_names():
    settings = Settings.build(workers=3, tts_engine="espeak", source="pexels", width=540)
    assert settings.tasks.workers == 3 and settings.voice.tts_engine == "espeak"
    assert settings.visuals.source == "pexels" and settings.render.width == 540
    assert settings.render.height == RenderSettings().height  # the rest of the group stays
    changed = settings.with_(cache_dir=Path("/tmp/c"), render=RenderSettings(fps=25))
    assert changed.storage.cache_dir == Path("/tmp/c") and changed.render.fps == 25
    assert changed.render.width == 1080 and settings.render.width == 540  # a copy
    assert Settings.from_env({"VISUALS": "ai"}, workers=4).visuals.source == "ai"
    assert Settings.from_env({"WORKERS": "2"}, workers=4).tasks.workers == 4
    with pytest.raises(TypeError, match="no field 'visual'"):
        Settings.build(visual="ai")
    with pytest.raises(ConfigError, match="QUEUE_SIZE: must be at least 1"):
        Settings().with_(queue_size=0)


def test_variables_name_every_field_once():
    rows = Settings.variables()
    names = [variable for variable, *_ in rows]
    assert len(names) == len(set(names))
    assert ("VISUALS", "visuals", "source", "auto") in rows
    assert ("MUSIC_PATH", "render", "music_path", None) in rows
    assert ("RENDER_PRESET", "render", "preset", "medium") in rows
    assert ("FLASK_RUN_FROM_CLI", "server", "under_flask_cli", False) in rows
    groups = {group for _, group, *_ in rows}
    assert groups == {
        "script",
        "voice",
        "visuals",
        "render",
        "tasks",
        "storage",
        "server",
        "publish",
    }


def test_the_flask_command_is_read_as_flask_sets_it():
    assert Settings.from_env({"FLASK_RUN_FROM_CLI": "true"}).server.under_flask_cli is True
    assert Settings.from_env({"FLASK_RUN_FROM_CLI": "1"}).server.under_flask_cli is False
    assert Settings.from_env({}).server.under_flask_cli is False
