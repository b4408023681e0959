"""Forced alignment (reelsmith.voice.alignment): a recording by one voice
(Piper) aligned against another (espeak-ng) gives each word's time; a script
that is not what the recording says fails plainly; gTTS and OpenAI-compatible
voices get aligned timings; a transcription's word timestamps time a
narration without a script; every accepted format is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelsmith.core.exceptions import BadRequest, ScriptMismatch
from reelsmith.core.pauses import GAP
from reelsmith.core.settings import Settings
from reelsmith.request import CreateRequest
from reelsmith.voice.alignment.recording import align_recording
from reelsmith.voice.engines.piper import PiperEngine
from reelsmith.voice.recorded import recorded_narration
from reelsmith.voice.stt import transcribe
from reelsmith.voice.synthesizer import SpeechSynthesizer
from reelsmith.voice.words import speech_bounds
from tests.helpers.fake_gtts import FakeGoogleTTS
from tests.helpers.recordings import encode, piper_recording
from tests.helpers.servers import FakeOpenAI
from tests.helpers.voices import assert_timings

SENTENCES = [
    "Octopuses have three hearts, and each one has a different job.",
    "Two of them pump blood through the gills to pick up oxygen.",
    "When an octopus swims, that main heart actually stops beating.",
]
OTHER = [
    "Honey bees tell each other where flowers are by dancing.",
    "The longer the waggle lasts, the farther away the food is.",
    "Lightning is five times hotter than the surface of the sun.",
]
PAUSE = 0.6  # seconds of silence between the sentences of the test recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return piper_recording(tmp_path_factory.mktemp("recording"), SENTENCES, PAUSE)


def test_a_recording_by_another_voice_is_timed_to_the_word(recording, tmp_path):
    wav, truth = recording
    clips = align_recording(wav, SENTENCES, "en", tmp_path)
    assert [c.text for c in clips] == SENTENCES
    errors = []
    for clip, starts in zip(clips, truth):
        assert [w.text for w in clip.words] == clip.text.split()
        errors += [abs(clip.offset + w.start - t) for w, t in zip(clip.words, starts)]
    # The goals of benchmarks/align.py: median within 40 ms, p90 within 100 ms.
    assert np.median(errors) <= 0.040 and np.percentile(errors, 90) <= 0.100, errors


def test_the_clips_keep_the_recording_and_its_pauses(recording, tmp_path):
    wav, _ = recording
    narration = recorded_narration(wav, SENTENCES, "en", tmp_path)
    assert (narration.engine, narration.word_timing, narration.voice) == (
        "recording",
        "aligned",
        "recording",
    )
    for segment in narration.segments:
        assert_timings(segment)
    first, last = speech_bounds(wav)
    # The video adds GAP between sentences: the clips leave that much of each pause out, so
    # the speech keeps its pauses; 0.1 s is kept before the first word, 0.25 s after the last.
    spoken = narration.duration + GAP * (len(SENTENCES) - 1)
    assert spoken == pytest.approx(last - first + 0.1 + 0.25, abs=0.1)


def test_a_script_that_is_not_what_the_recording_says_fails_plainly(recording, tmp_path):
    wav, _ = recording
    with pytest.raises(ScriptMismatch, match="the script does not match the recording"):
        recorded_narration(wav, OTHER, "en", tmp_path)


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a", ".ogg"])
def test_each_format_is_read_and_aligned(recording, tmp_path, suffix):
    wav, truth = recording
    source = encode(wav, tmp_path / f"narration{suffix}") if suffix != ".wav" else wav
    narration = recorded_narration(source, SENTENCES, "en", tmp_path / "work")
    assert narration.word_timing == "aligned" and len(narration.segments) == len(SENTENCES)
    for segment, starts in zip(narration.segments, truth):
        assert_timings(segment)
        # Each clip's words are spread over it as in the recording.
        spoken = starts[-1] - starts[0]
        aligned = segment.words[-1].start - segment.words[0].start
        assert aligned == pytest.approx(spoken, abs=0.15)


def _piper_wav(text: str, speed: float = 1.0) -> bytes:
    path = Path(__import__("tempfile").mkdtemp()) / "speech.wav"
    PiperEngine(Settings()).synthesize(text, "en", path, voice=None, speed=speed)
    return path.read_bytes()


def _piper_mp3(text: str) -> bytes:
    folder = Path(__import__("tempfile").mkdtemp())
    (folder / "speech.wav").write_bytes(_piper_wav(text))
    return encode(folder / "speech.wav", folder / "speech.mp3").read_bytes()


def test_gtts_gets_aligned_timings(monkeypatch, tmp_path):
    with FakeGoogleTTS(speak=_piper_mp3) as google:
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings()).narrate(SENTENCES[:2], tmp_path, voice="gtts")
    assert (narration.engine, narration.word_timing, narration.timing_note) == (
        "gtts",
        "aligned",
        None,
    )
    for segment in narration.segments:
        assert_timings(segment)


def test_openai_voice_gets_aligned_timings_and_a_tone_is_estimated_with_the_reason(tmp_path):
    with FakeOpenAI(speak=lambda text, speed: _piper_wav(text, speed)) as server:
        settings = Settings.build(tts_base_url=server.base_url, tts_api_key="sk-test")
        narration = SpeechSynthesizer(settings).narrate(
            SENTENCES[:2], tmp_path / "speech", voice="openai:alloy"
        )
    assert (narration.word_timing, narration.timing_note) == ("aligned", None)
    for segment in narration.segments:
        assert_timings(segment)
    with FakeOpenAI() as server:  # tones, not speech: no alignment, and the result says why
        settings = Settings.build(tts_base_url=server.base_url, tts_api_key="sk-test")
        narration = SpeechSynthesizer(settings).narrate(
            SENTENCES[:1], tmp_path / "tones", voice="openai:alloy"
        )
    assert narration.word_timing == "estimated"
    assert narration.timing_note.startswith("sentence 1: alignment failed: the audio does not say")


def test_a_transcription_times_a_narration_without_a_script(recording, tmp_path):
    wav, truth = recording
    words = [
        {"word": word, "start": round(t, 3), "end": round(t + 0.1, 3)}
        for text, starts in zip(SENTENCES, truth)
        for word, t in zip(text.split(), starts)
    ]
    transcript = {"text": " ".join(SENTENCES), "words": words}
    with FakeOpenAI(transcript=transcript) as server:
        settings = Settings.build(stt_base_url=server.base_url, stt_api_key="sk-stt")
        got = transcribe(wav, settings.voice)
    (sent,) = server.requests
    assert sent["path"] == "/v1/audio/transcriptions" and sent["authorization"] == "Bearer sk-stt"
    assert b'name="timestamp_granularities[]"' in sent["body"] and b"verbose_json" in sent["body"]
    assert got.text == " ".join(SENTENCES) and len(got.words) == len(words)
    narration = recorded_narration(wav, SENTENCES, "en", tmp_path, got.words)
    assert narration.word_timing == "transcribed"
    clips_start = [s.words[0].start for s in narration.segments]
    assert all(0.0 <= t < 0.5 for t in clips_start)  # each clip starts just before its speech
    for segment in narration.segments:
        assert_timings(segment)


def test_a_narration_without_a_script_needs_a_transcription_server():
    with pytest.raises(BadRequest, match="a script is needed") as caught:
        CreateRequest.parse({"topic": "octopus"}, Settings(), files={"narration"})
    assert caught.value.field == "script"
    configured = Settings.build(stt_base_url="http://127.0.0.1:9/v1")
    assert CreateRequest.parse({}, configured, files={"narration"}).script is None
    with pytest.raises(BadRequest) as caught:
        CreateRequest.parse({"narration": "x.wav", "script": "Hi."}, Settings())
    assert caught.value.field == "narration"
