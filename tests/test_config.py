"""Settings come from the environment once, into one object."""
from pathlib import Path

from config import RenderSettings, Settings


def test_environment_values_are_converted_to_their_types():
    settings = Settings.from_env({
        "MUSIC_PATH": "/srv/music/bed.mp3", "CACHE_MAX_MB": "64", "WORKERS": "2",
        "RENDER_PRESET": "veryfast", "RENDER_THREADS": "2", "OPENAI_MODEL": "local-model",
    })
    assert settings.music_path == Path("/srv/music/bed.mp3")
    assert settings.cache_max_mb == 64.0 and settings.workers == 2
    assert settings.openai_model == "local-model"
    assert settings.render == RenderSettings(preset="veryfast", threads=2)


def test_an_empty_optional_setting_is_unset():
    settings = Settings.from_env({"MUSIC_PATH": "", "OPENAI_API_KEY": "", "RENDER_THREADS": ""})
    assert settings.music_path is None and settings.openai_api_key is None
    assert settings.render.threads is None
    assert Settings.from_env({}).music_path is None
