"""The voices that need a network, each through its real client: edge-tts
against tests/fake_edge.py, the openai SDK against FakeOpenAI's /v1/audio/speech."""

from __future__ import annotations

import pytest

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.settings import Settings
from reelsmith.voice.alignment.aligner import warm_up
from reelsmith.voice.synthesizer import (
    SpeechSynthesizer,
    check_voice,
    list_voices,
)
from tests.helpers.fake_edge import FakeEdge, word_plan
from tests.helpers.servers import FakeOpenAI
from tests.helpers.voices import assert_timings

pytestmark = pytest.mark.usefixtures("fresh_edge_list")


@pytest.fixture
def edge(monkeypatch):
    with FakeEdge() as fake:
        fake.patch(monkeypatch)
        yield fake


# -- edge -------------------------------------------------------------------------------------
def test_edge_speaks_through_its_websocket_protocol(tmp_path, edge):
    text = "Hallo zusammen, wie geht's dir heute?"
    narration = SpeechSynthesizer(Settings()).narrate(
        [text], tmp_path, language="de", voice="edge:de-DE-KatjaNeural", speed=1.5
    )
    (request,) = edge.requests
    assert "de-DE, KatjaNeural" in request["voice"] and request["rate"] == "+50%"
    assert request["boundary"] and request["text"] == text
    assert (narration.engine, narration.sample_rate, narration.word_timing) == (
        "edge",
        24000,
        "engine",
    )
    segment = narration.segments[0]
    assert_timings(segment)
    plan, seconds = word_plan(text, 1.5)
    assert [w.start for w in segment.words] == pytest.approx([s for _, s, _ in plan], abs=1e-4)
    assert [w.end for w in segment.words] == pytest.approx([e for _, _, e in plan], abs=0.011)
    assert segment.duration == pytest.approx(seconds, abs=0.05)


def test_edge_voices_come_from_its_list(edge):
    voices = [v for v in list_voices(Settings()) if v.engine == "edge"]
    assert [v.id for v in voices] == [
        "edge:de-DE-KatjaNeural",
        "edge:en-US-AriaNeural",
        "edge:fr-FR-HenriNeural",
        "edge:zh-CN-XiaoxiaoNeural",
    ]
    assert (voices[2].gender, voices[2].language, voices[2].offline) == ("Male", "fr-FR", False)
    assert check_voice("edge:de-de-katjaneural", "de", Settings()) == "edge:de-DE-KatjaNeural"
    with pytest.raises(UnknownVoice, match="Edge has no voice 'de-DE-NobodyNeural'"):
        check_voice("edge:de-DE-NobodyNeural", "de", Settings())
    list_voices(Settings())
    assert edge.list_requests == 1  # fetched once


def test_auto_prefers_edge_for_other_languages_when_reachable(tmp_path, edge):
    narration = SpeechSynthesizer(Settings()).narrate(["Bonjour à tous."], tmp_path, language="fr")
    # fr-FR-DeniseNeural (our default) is not in the fake's list: its first French voice
    assert (narration.engine, narration.voice, narration.fallback_reason) == (
        "edge",
        "edge:fr-FR-HenriNeural",
        None,
    )


def test_edge_403_falls_back_and_says_why(tmp_path, edge):
    list_voices(Settings())  # the list answered; then the service starts refusing
    edge.mode = "403"
    with pytest.raises(
        VoiceError, match="Edge's voice could not be reached: the server refused: 403"
    ):
        SpeechSynthesizer(Settings()).narrate(
            ["Hallo."], tmp_path / "named", language="de", voice="edge:de-DE-KatjaNeural"
        )
    narration = SpeechSynthesizer(Settings()).narrate(
        ["Hallo zusammen."], tmp_path / "auto", language="de"
    )
    assert narration.engine == "espeak"
    reason = narration.fallback_reason
    assert reason.startswith("edge: Edge's voice could not be reached: the server refused: 403")
    assert "gtts: Google Text-to-Speech could not be reached" in reason
    assert reason.endswith("; used espeak")


# -- openai -----------------------------------------------------------------------------------
def test_openai_voice_through_the_sdk(tmp_path):
    warm_up()  # the first alignment loads librosa: longer than the pool's keep-alive
    with FakeOpenAI() as server:
        settings = Settings.build(
            tts_base_url=server.base_url, tts_api_key="sk-test", tts_model="kokoro"
        )
        assert check_voice("openai:af_bella", "en", settings) == "openai:af_bella"
        assert "openai:alloy" in [v.id for v in list_voices(settings)]
        narration = SpeechSynthesizer(settings).narrate(
            ["Three hearts, blue blood.", "Eight arms 🐙."],
            tmp_path,
            voice="openai:af_bella",
            speed=1.25,
        )
    bodies = [r["body"] for r in server.requests]
    assert bodies[0] == {
        "model": "kokoro",
        "voice": "af_bella",
        "input": "Three hearts, blue blood.",
        "response_format": "wav",
        "speed": 1.25,
    }
    assert bodies[1]["input"] == "Eight arms  ."
    assert server.requests[0]["authorization"] == "Bearer sk-test"
    assert server.connections == 1  # the pooled client kept its connection
    assert (narration.engine, narration.sample_rate, narration.word_timing) == (
        "openai",
        24000,
        "estimated",
    )
    for segment in narration.segments:
        assert_timings(segment)
        # the fake's 0.3 s of silence (at speed 1.25) is before the first word and after the last
        assert segment.words[0].start == pytest.approx(0.24, abs=0.015)
        assert segment.duration - segment.words[-1].end == pytest.approx(0.24, abs=0.015)


def test_openai_failure_is_a_speech_error(tmp_path):
    with FakeOpenAI("500") as server:
        settings = Settings.build(tts_base_url=server.base_url, tts_api_key="k")
        with pytest.raises(VoiceError, match="openai voice answered 500"):
            SpeechSynthesizer(settings).narrate(["Hello."], tmp_path, voice="openai:alloy")
