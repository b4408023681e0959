"""Word timings: Piper's alignments and espeak's word events mapped to words,
estimates on the sound when an engine gives none, and cached timings."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from cache import Cache
from reelsmith.core.settings import Settings
from reelsmith.voice.engines.espeak import espeak_phoneme_counter
from reelsmith.voice.engines.piper import PiperEngine, load_piper_voice, piper_marks
from reelsmith.voice.espeak_lib import EspeakLibrary
from reelsmith.voice.synthesizer import (
    SpeechSynthesizer,
    speakable,
)
from reelsmith.voice.words import estimate_marks, tokens, words_from_marks
from tests.helpers.voices import assert_timings

# -- word timings ---------------------------------------------------------------------
pytestmark = pytest.mark.usefixtures("fresh_edge_list")


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
