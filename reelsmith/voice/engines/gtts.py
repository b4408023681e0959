"""gTTS: Google Translate's voice (online, one voice a language); no word
timings and no speed of its own (the synthesizer changes the tempo)."""

from __future__ import annotations

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import canonical
from reelsmith.voice.engines.base import Engine, Voice, ffmpeg_to_wav, first_line

GTTS_SAMPLE_RATE = 24000


class GTTSEngine(Engine):
    """Google Translate's voice through gTTS: the network, always with a timeout."""

    name = "gtts"
    description = "Google Translate's voice, one per language (online)"
    offline = False
    word_timings = False
    native_speed = False
    auto_rank = 2
    typical_pace = 2.5

    def languages(self) -> list[str]:
        from gtts.lang import tts_langs  # a table shipped with gTTS: no network

        return sorted(tts_langs())

    @classmethod
    def language_names(cls) -> dict[str, str]:
        from gtts.lang import tts_langs

        return dict(tts_langs())

    def voices(self) -> list[Voice]:
        from gtts.lang import tts_langs

        return [
            self.voice(code, canonical(code), f"Google {name}")
            for code, name in sorted(tts_langs().items())
        ]

    def check(self, voice: str) -> str:
        code = self.code(voice)
        if code is None:
            raise UnknownVoice(f"Google Text-to-Speech has no voice {voice!r}")
        return code

    def version(self, voice):
        # Google's voice has no version we can see; the TLD changes the accent.
        return f"translate.google.{self.settings.voice.gtts_tld}/{voice}"

    def language_of(self, voice, language):
        return canonical(voice) if voice else language

    def synthesize(self, text, language, out_path, *, voice, speed):
        import requests
        from gtts import gTTS, gTTSError

        lang = self.code(voice or language)
        if lang is None:
            raise VoiceError(f"Google Text-to-Speech does not speak {language!r}")
        mp3_path = out_path.with_suffix(".part.mp3")
        try:
            try:
                gTTS(
                    text,
                    lang=lang,
                    tld=self.settings.voice.gtts_tld,
                    timeout=self.settings.voice.gtts_timeout,
                ).save(mp3_path)
            except (gTTSError, requests.RequestException) as exc:
                raise VoiceError(
                    f"Google Text-to-Speech could not be reached: {self._reason(exc)}"
                ) from exc
            except AssertionError as exc:  # gTTS found nothing speakable (e.g. only punctuation)
                raise VoiceError(f"Google Text-to-Speech has nothing to say for {text!r}") from exc
            if mp3_path.stat().st_size == 0:
                # gTTS writes nothing when the reply has no line carrying audio.
                raise VoiceError("Google Text-to-Speech answered without audio")
            ffmpeg_to_wav(mp3_path, out_path, GTTS_SAMPLE_RATE, "Google")
        finally:
            mp3_path.unlink(missing_ok=True)
        return None

    def _reason(self, exc: Exception) -> str:
        """gTTS says only "Failed to connect. Probable cause: Unknown" when no
        reply came: name the requests error it swallowed instead."""
        import requests

        cause = exc.__context__ if isinstance(exc.__context__, requests.RequestException) else exc
        if isinstance(cause, requests.Timeout):
            return f"no answer within {self.settings.voice.gtts_timeout:g} s"
        if isinstance(cause, requests.ConnectionError):
            return f"could not connect to translate.google.{self.settings.voice.gtts_tld}"
        return first_line(exc)
