"""The simple call forms keep working, with nothing configured."""

import pytest

from app import create_app
from cache import Cache
from content_generator import ContentGenerator
from reelsmith.core.settings import Settings
from reelsmith.render.timeline import Timeline, frame_size
from reelsmith.script.text import Script
from reelsmith.voice.synthesizer import SpeechSynthesizer
from tests.helpers.media import probe
from video_creator import VideoCreator


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TTS_ENGINE"):
        monkeypatch.delenv(name, raising=False)


def test_cache_with_just_a_directory(tmp_path):
    cache = Cache(str(tmp_path))
    cache.set("key", "value")
    assert cache.get("key") == "value"
    assert cache.get("other") is None


def test_content_generator_with_no_arguments():
    script = ContentGenerator(Settings.from_env()).generate_script(
        "why octopuses have three hearts"
    )
    assert isinstance(script, Script)
    assert script.source == "offline" and 5 <= len(script.sentences) <= 8


def test_video_creator_with_the_environments_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RENDER_WIDTH", "180")  # small, so the test takes seconds
    monkeypatch.setenv("RENDER_HEIGHT", "320")
    script = Script(
        title="Tea",
        sentences=["Tea is a leaf.", "People brew it hot."],
        description="",
        hashtags=[],
        source="user",
    )
    settings = Settings.from_env()
    narration = SpeechSynthesizer(settings).narrate(script.sentences, tmp_path / "voice")
    timeline = Timeline.narrated(narration, size=frame_size(settings.render), title=script.title)
    result = VideoCreator(settings).render(timeline, tmp_path / "tea.mp4")
    info = probe(result.video_path)
    assert (info.width, info.height) == (180, 320) and info.audio
    assert narration.engine == "piper"


def test_form_encoded_post_to_create(tmp_path):
    settings = Settings.build(data_dir=tmp_path, cache_dir=tmp_path / "cache")
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    resp = app.test_client().post("/api/create", data={"topic": "tea"})
    assert resp.status_code == 202 and "task_id" in resp.get_json()
