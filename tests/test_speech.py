"""The voice stage (synthesizer.py) for real: piper and espeak offline, the real gTTS code against
tests/fake_gtts.py. The conftest guard keeps everything on 127.0.0.1."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from cache import Cache
from reelsmith.core.exceptions import VoiceError
from reelsmith.core.settings import Settings
from reelsmith.voice.synthesizer import SpeechSynthesizer, engine_table
from tests.helpers.fake_gtts import TONE_HZ, TONE_SECONDS, FakeGoogleTTS

pytestmark = pytest.mark.usefixtures("fresh_edge_list")


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getcomptype()) == (1, 2, "NONE")
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def assert_spoken(segment, rate: int) -> np.ndarray:
    """The segment's WAV exists at ``rate``, its duration matches the header,
    lasts a plausible time for its words, and is not silence."""
    got_rate, samples = read_wav(segment.path)
    assert got_rate == rate
    assert segment.duration == pytest.approx(len(samples) / rate)
    words = len(segment.text.split())
    assert segment.duration > 0.3
    assert 0.8 < words / segment.duration < 6, "speech rate outside 0.8-6 words per second"
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # RMS well above silence
    return samples


def synth(**settings) -> SpeechSynthesizer:
    return SpeechSynthesizer(Settings.build(**settings))


# -- engines ----------------------------------------------------------------
def test_piper_speaks_english(tmp_path):
    sentences = [
        "Octopuses have three hearts.",
        "Two of them pump blood through the gills, and the third feeds the body.",
    ]
    narration = synth().narrate(sentences, tmp_path, voice="piper")
    assert (narration.engine, narration.language, narration.sample_rate) == ("piper", "en", 22050)
    assert [s.path.name for s in narration.segments] == ["voice_000.wav", "voice_001.wav"]
    assert [s.text for s in narration.segments] == sentences
    short, long = (assert_spoken(s, 22050) for s in narration.segments)
    assert len(long) > 1.5 * len(short)  # more words, more audio
    assert narration.duration == pytest.approx(sum(s.duration for s in narration.segments))


@pytest.mark.parametrize(
    "language, text",
    [
        ("de", "Kraken haben drei Herzen und blaues Blut."),
        ("en", "Octopuses have three hearts and blue blood."),
    ],
)
def test_espeak_speaks(tmp_path, language, text):
    narration = synth().narrate([text], tmp_path, language=language, voice="espeak")
    assert (narration.engine, narration.language, narration.sample_rate) == (
        "espeak",
        language,
        22050,
    )
    assert_spoken(narration.segments[0], 22050)


def test_espeak_voices_differ_by_language(tmp_path):
    """The language really selects a voice: the same letters sound different."""
    text = ["Die Sonne ist ein Stern."]
    de = synth().narrate(text, tmp_path / "de", language="de", voice="espeak")
    en = synth().narrate(text, tmp_path / "en", language="en", voice="espeak")
    assert de.segments[0].path.read_bytes() != en.segments[0].path.read_bytes()


def test_espeak_is_safe_from_many_threads(tmp_path):
    """espeak keeps one global voice and output callback: concurrent calls must
    not mix up audio or voices. Sentences of very different lengths, half in
    German, make a mix-up show in the durations (espeak is not bit-exact from
    call to call - a few samples vary - so bytes can't be compared)."""
    jobs = [
        (" ".join([word] * n) + ".", language)
        for n in (1, 4, 9, 16)
        for word, language in (("word", "en"), ("Wort", "de"))
    ]
    alone = [
        synth().narrate([text], tmp_path / f"alone{i}", language=language, voice="espeak").duration
        for i, (text, language) in enumerate(jobs)
    ]
    together: dict[int, float] = {}

    def speak(i: int) -> None:
        text, language = jobs[i]
        together[i] = (
            synth()
            .narrate([text], tmp_path / f"together{i}", language=language, voice="espeak")
            .duration
        )

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [together.get(i) for i in range(len(jobs))] == pytest.approx(alone, rel=0.02)


def test_gtts_through_the_fake_endpoint(tmp_path, monkeypatch):
    sentences = ["Bonjour tout le monde.", "Les pieuvres ont trois coeurs."]
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = synth(gtts_timeout=5).narrate(sentences, tmp_path, language="fr", voice="gtts")
    assert (narration.engine, narration.sample_rate) == ("gtts", 24000)
    assert [(r["text"], r["lang"]) for r in google.requests] == [(s, "fr") for s in sentences]
    assert google.requests[0]["path"] == "/_/TranslateWebserverUi/data/batchexecute"
    for segment in narration.segments:
        rate, samples = read_wav(segment.path)
        assert rate == 24000
        assert segment.duration == pytest.approx(TONE_SECONDS, abs=0.03)
        # It is the server's tone that arrived, not some other sound.
        spectrum = np.abs(np.fft.rfft(samples))
        assert np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()] == pytest.approx(
            TONE_HZ, abs=5
        )
    assert not list(tmp_path.glob("*.mp3"))  # the temporary MP3s are gone


@pytest.mark.parametrize(
    "mode, message",
    [
        ("error500", "could not be reached: 500"),
        ("noaudio", "answered without audio"),
    ],
)
def test_gtts_failures_are_speech_errors(tmp_path, monkeypatch, mode, message):
    with FakeGoogleTTS(mode) as google:
        google.patch(monkeypatch)
        with pytest.raises(VoiceError, match=message) as info:
            synth().narrate(["Hallo."], tmp_path, language="de", voice="gtts")
    assert info.value.stage == "voice"
    assert google.request_count == 1


@pytest.mark.timeout(20)  # safety net only: the 1 s gTTS timeout must end the test
def test_gtts_hang_hits_the_timeout(tmp_path, monkeypatch):
    with FakeGoogleTTS("hang") as google:
        google.patch(monkeypatch)
        with pytest.raises(VoiceError, match="could not be reached: no answer within 1 s"):
            synth(gtts_timeout=1).narrate(["Hallo."], tmp_path, language="de", voice="gtts")
    assert google.request_count == 1


def test_explicit_gtts_offline_does_not_fall_back(tmp_path):
    # No fake server: the conftest guard makes translate.google.com unresolvable.
    with pytest.raises(VoiceError, match="could not connect to translate.google.com"):
        synth().narrate(["Hallo."], tmp_path, language="de", voice="gtts")


# -- auto -----------------------------------------------------------------------
def test_auto_uses_piper_for_english(tmp_path):
    narration = synth().narrate(["Hello there, friend."], tmp_path, language="en-US")
    assert narration.engine == "piper" and narration.fallback_reason is None


def test_auto_uses_gtts_for_other_languages_when_edge_is_unreachable(tmp_path, monkeypatch):
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = synth().narrate(["Hola a todos."], tmp_path, language="es")
    assert (narration.engine, narration.sample_rate) == ("gtts", 24000)
    assert narration.fallback_reason.startswith("edge: unreachable (could not connect")
    assert narration.fallback_reason.endswith("; used gtts")
    assert google.request_count == 1


def test_auto_redoes_everything_with_espeak_when_gtts_fails(tmp_path, monkeypatch):
    with FakeGoogleTTS(modes=["ok", "error500"]) as google:  # the second sentence fails
        google.patch(monkeypatch)
        narration = synth().narrate(
            ["Hallo zusammen.", "Wie geht es dir heute?"], tmp_path, language="de"
        )
    assert google.request_count == 2
    assert (narration.engine, narration.sample_rate) == ("espeak", 22050)
    assert "gtts: Google Text-to-Speech could not be reached: 500" in narration.fallback_reason
    assert narration.fallback_reason.endswith("; used espeak")
    for segment in narration.segments:  # the first sentence was redone too: one rate for all
        assert_spoken(segment, 22050)


def test_auto_falls_back_with_no_network(tmp_path):
    narration = synth().narrate(["Hallo zusammen."], tmp_path, language="de")
    assert narration.engine == "espeak"
    assert "could not connect to translate.google.com" in narration.fallback_reason


# -- cache ------------------------------------------------------------------
def test_cache_spares_engine_calls(tmp_path):
    speaker = SpeechSynthesizer(Settings(), cache=Cache(tmp_path / "cache"))
    sentences = ["Octopuses have three hearts.", "Their blood is blue."]
    first = speaker.narrate(sentences, tmp_path / "a", voice="piper")
    assert speaker.engine_calls == 2
    second = speaker.narrate(sentences, tmp_path / "b", voice="piper")
    assert speaker.engine_calls == 2
    # piper is not deterministic, so equal bytes prove the audio came from the cache.
    assert [s.path.read_bytes() for s in first.segments] == [
        s.path.read_bytes() for s in second.segments
    ]
    assert [s.duration for s in first.segments] == [s.duration for s in second.segments]
    speaker.narrate(sentences[:1], tmp_path / "c", voice="espeak")
    assert speaker.engine_calls == 3  # another engine is another entry


def test_cache_spares_requests_to_google(tmp_path, monkeypatch):
    speaker = SpeechSynthesizer(Settings(), cache=Cache(tmp_path / "cache"))
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        speaker.narrate(["Bonjour."], tmp_path / "a", language="fr", voice="gtts")
        again = speaker.narrate(["Bonjour."], tmp_path / "b", language="fr", voice="gtts")
    assert google.request_count == 1 and speaker.engine_calls == 1
    assert again.segments[0].duration == pytest.approx(TONE_SECONDS, abs=0.03)


# -- errors and listing -------------------------------------------------------
@pytest.mark.parametrize(
    "sentences, kwargs, message",
    [
        (["Hello."], {"voice": "robot"}, "unknown voice 'robot'"),
        (["Hallo."], {"voice": "piper", "language": "de"}, "piper voice does not speak 'de'"),
        (["Hello."], {"voice": "espeak", "language": "xx"}, "espeak voice does not speak 'xx'"),
        ([], {}, "nothing to say"),
        (["  ", ""], {}, "nothing to say"),
    ],
)
def test_bad_requests_are_clear_errors(tmp_path, sentences, kwargs, message):
    with pytest.raises(VoiceError, match=message):
        synth().narrate(sentences, tmp_path, **kwargs)
    assert not list(tmp_path.glob("*.wav"))


def test_engine_table_lists_every_engine():
    rows = {v["engine"]: v for v in engine_table(Settings())}
    assert list(rows) == ["piper", "espeak", "gtts", "edge", "openai"]
    assert rows["piper"]["languages"] == ["en-US"] and rows["piper"]["offline"]
    assert {"en", "de", "fr", "es", "it", "pt", "ru", "hi", "ar", "el", "cmn", "ja", "ko"} <= set(
        rows["espeak"]["languages"]
    )
    assert rows["espeak"]["offline"] and rows["espeak"]["word_timings"]
    assert {"de", "ja", "hi"} <= set(rows["gtts"]["languages"]) and not rows["gtts"]["offline"]
    assert not rows["gtts"]["word_timings"] and rows["edge"]["word_timings"]
    # Offline: Edge says why it cannot speak, openai says what it needs.
    assert (
        not rows["edge"]["available"] and "could not connect" in rows["edge"]["unavailable_reason"]
    )
    assert "TTS_BASE_URL" in rows["openai"]["unavailable_reason"]
