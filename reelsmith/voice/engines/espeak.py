"""espeak-ng: offline, about 100 languages (libespeak-ng from the
``espeakng-loader`` wheel, through the ctypes binding in ``espeak_lib``);
word events from its synthesis callback; speed through its rate. Its
phonemizer also counts the sounds of words for the synthesizer's timing
estimates."""

from __future__ import annotations

from collections.abc import Callable

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import canonical, for_engine
from reelsmith.voice.engines.base import Engine, Lazy, Voice, version, write_wav
from reelsmith.voice.espeak_lib import ESPEAK_DEFAULT_RATE, EspeakLibrary

ESPEAK = Lazy(EspeakLibrary)  # the one library instance per process


def espeak_phoneme_counter(language: str) -> Callable[[str], int] | None:
    """Phoneme counts per word in ``language`` (None if espeak lacks it or
    cannot load)."""
    try:
        espeak = ESPEAK.get()
    except VoiceError:
        return None
    tag = for_engine("espeak", language, espeak.languages)
    if tag is None:
        return None
    return lambda text: espeak.phoneme_count(text, tag)


class EspeakEngine(Engine):
    """Offline, robotic but clear, ~100 languages."""

    name = "espeak"
    description = "robotic but clear, about 100 languages, offline"
    offline = True
    word_timings = True
    auto_rank = 3  # the last resort: offline, for every language it speaks

    def languages(self) -> list[str]:
        return ESPEAK.get().languages

    @classmethod
    def language_names(cls) -> dict[str, str]:
        return dict(ESPEAK.get().names)

    def voices(self) -> list[Voice]:
        names = ESPEAK.get().names
        return [self.voice(tag, canonical(tag), f"eSpeak {names[tag]}") for tag in self.languages()]

    def check(self, voice: str) -> str:
        tag = self.code(voice)
        if tag is None:
            raise UnknownVoice(f"espeak has no voice {voice!r}")
        return tag

    def version(self, voice):
        return f"espeak-ng/{version('espeakng-loader')}/{voice}"

    def language_of(self, voice, language):
        return canonical(voice) if voice else language

    def synthesize(self, text, language, out_path, *, voice, speed):
        espeak = ESPEAK.get()
        tag = self.code(voice or language)
        if tag is None:
            raise VoiceError(f"espeak does not speak {language!r}")
        rate = round(ESPEAK_DEFAULT_RATE * speed)
        samples, events = espeak.speak(text, tag, rate)
        write_wav(out_path, samples, espeak.sample_rate)
        # Positions count characters from 1; the words' ends are the next word's start.
        return [(position - 1, ms / 1000, None) for position, ms in events]
