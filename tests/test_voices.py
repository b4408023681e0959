"""Voice engines for real: piper and espeak offline, the real gTTS code against a local fake."""
import wave

import numpy as np
import pytest

from cache import Cache
from config import Settings
from exceptions import SpeechError
from speech import SpeechSynthesizer, available_voices
from tests.servers import FakeGoogleTTS


def samples(path):
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def assert_speech(segment, rate, min_seconds):
    got_rate, data = samples(segment.path)
    assert got_rate == rate
    assert segment.duration == pytest.approx(len(data) / rate)
    assert min_seconds < segment.duration < 10
    assert np.abs(data).max() > 1000  # not silence


def test_piper_speaks_english(tmp_path):
    narration = SpeechSynthesizer(Settings()).narrate(
        ["Octopuses have three hearts.", "Two of them pump blood through the gills, and one feeds the body."],
        tmp_path, language="en", engine="piper")
    assert narration.engine == "piper" and narration.sample_rate == 22050
    short, long = narration.segments
    assert_speech(short, 22050, 0.8)
    assert_speech(long, 22050, 2.0)
    assert long.duration > short.duration * 1.5  # longer text, longer audio


@pytest.mark.parametrize("language, text", [
    ("de", "Kraken haben drei Herzen."),
    ("en", "Octopuses have three hearts."),
    ("hi", "ऑक्टोपस के तीन दिल होते हैं।"),
])
def test_espeak_speaks_other_languages(tmp_path, language, text):
    narration = SpeechSynthesizer(Settings()).narrate([text], tmp_path, language=language, engine="espeak")
    assert narration.engine == "espeak" and narration.language == language
    assert_speech(narration.segments[0], narration.sample_rate, 0.8)


def test_gtts_through_local_endpoint(tmp_path, monkeypatch):
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings(gtts_timeout=5)).narrate(
            ["Bonjour tout le monde.", "Les pieuvres ont trois coeurs."], tmp_path,
            language="fr", engine="gtts")
    assert narration.engine == "gtts" and narration.sample_rate == 24000
    assert len(google.requests) == 2
    assert "batchexecute" in google.requests[0]["path"]
    assert "Bonjour" in __import__("urllib.parse").parse.unquote_plus(google.requests[0]["body"])
    for seg in narration.segments:
        assert_speech(seg, 24000, 0.7)
        assert seg.duration == pytest.approx(0.8, abs=0.1)  # the fake's MP3 is 0.8 s


def test_gtts_server_error_is_a_speech_error(tmp_path, monkeypatch):
    with FakeGoogleTTS(mode="500") as google:
        google.patch(monkeypatch)
        with pytest.raises(SpeechError, match="could not be reached") as info:
            SpeechSynthesizer(Settings()).narrate(["Hallo."], tmp_path, language="de", engine="gtts")
    assert info.value.stage == "voice"


@pytest.mark.timeout(20)
def test_gtts_hang_times_out(tmp_path, monkeypatch):
    with FakeGoogleTTS(mode="hang", delay=15) as google:
        google.patch(monkeypatch)
        with pytest.raises(SpeechError, match="could not be reached"):
            SpeechSynthesizer(Settings(gtts_timeout=1)).narrate(["Hallo."], tmp_path, language="de",
                                                                engine="gtts")
        assert len(google.requests) == 1


def test_auto_uses_piper_for_english(tmp_path):
    narration = SpeechSynthesizer(Settings()).narrate(["Hello there."], tmp_path)
    assert narration.engine == "piper" and narration.fallback_reason is None


def test_auto_uses_gtts_for_other_languages_when_reachable(tmp_path, monkeypatch):
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings()).narrate(["Hola."], tmp_path, language="es")
    assert narration.engine == "gtts" and narration.fallback_reason is None


def test_auto_falls_back_to_espeak_when_google_fails(tmp_path, monkeypatch):
    with FakeGoogleTTS(modes=["ok", "500"]) as google:  # the second sentence fails
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings()).narrate(["Hallo.", "Wie geht es?"], tmp_path,
                                                          language="de")
    assert narration.engine == "espeak"
    assert narration.sample_rate == 22050 and len(narration.segments) == 2
    assert narration.fallback_reason.startswith("gtts: Google Text-to-Speech could not be reached")


def test_auto_falls_back_offline_with_no_network(tmp_path):
    # No fake server: the autouse guard makes Google's host unreachable.
    narration = SpeechSynthesizer(Settings()).narrate(["Hallo."], tmp_path, language="de")
    assert narration.engine == "espeak" and "could not be reached" in narration.fallback_reason


def test_cache_spares_engine_calls(tmp_path):
    cache = Cache(tmp_path / "cache")
    synth = SpeechSynthesizer(Settings(), cache=cache)
    first = synth.narrate(["One sentence.", "Two sentences."], tmp_path / "a", engine="espeak")
    assert synth.engine_calls == 2
    second = synth.narrate(["One sentence.", "Two sentences."], tmp_path / "b", engine="espeak")
    assert synth.engine_calls == 2
    for a, b in zip(first.segments, second.segments):
        assert a.path.read_bytes() == b.path.read_bytes()
    synth.narrate(["One sentence."], tmp_path / "c", engine="espeak", language="de")
    assert synth.engine_calls == 3  # another language is another entry


@pytest.mark.parametrize("kwargs, message", [
    ({"engine": "robot"}, "unknown voice engine"),
    ({"engine": "piper", "language": "de"}, "does not speak 'de'"),
    ({"engine": "espeak", "language": "xx"}, "does not speak 'xx'"),
])
def test_bad_choices_are_clear_errors(tmp_path, kwargs, message):
    with pytest.raises(SpeechError, match=message):
        SpeechSynthesizer(Settings()).narrate(["Hello."], tmp_path, **kwargs)


def test_nothing_to_say(tmp_path):
    with pytest.raises(SpeechError, match="nothing to say"):
        SpeechSynthesizer(Settings()).narrate(["  ", ""], tmp_path)


def test_available_voices_lists_engines():
    voices = {v["engine"]: v for v in available_voices()}
    assert voices["piper"]["languages"] == ["en"] and voices["piper"]["offline"]
    assert {"de", "fr", "ru", "hi", "ar", "el"} <= set(voices["espeak"]["languages"])
    assert not voices["gtts"]["offline"] and "ja" in voices["gtts"]["languages"]
