"""Any OpenAI-compatible ``/v1/audio/speech`` (``TTS_BASE_URL``,
``TTS_API_KEY``, ``TTS_MODEL``): OpenAI, or a local Kokoro server; speed
native, timings estimated. Usable only once one of those is set."""

from __future__ import annotations

import re

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.languages import canonical
from reelsmith.voice.engines.base import Engine, Voice, decode_to_wav, first_line

OPENAI_SAMPLE_RATE = 24000
OPENAI_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
)
_OPENAI_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


class OpenAIEngine(Engine, PooledHTTP):
    """Any OpenAI-compatible ``/v1/audio/speech``: OpenAI itself, or a local
    server for Kokoro and other open voices (``TTS_BASE_URL``). Asks for WAV,
    passes ``speed``; the shared pooled httpx client keeps connections open."""

    name = "openai"
    description = "an OpenAI-compatible /v1/audio/speech (TTS_BASE_URL, TTS_API_KEY, TTS_MODEL)"
    offline = False
    word_timings = False
    typical_pace = 2.6

    @property
    def configured(self) -> bool:
        return bool(self.settings.voice.tts_base_url or self.settings.voice.tts_api_key)

    def require(self) -> None:
        if not self.configured:
            raise UnknownVoice("the openai voice needs TTS_BASE_URL (or TTS_API_KEY for OpenAI)")

    def unavailable(self) -> str | None:
        return None if self.configured else "set TTS_BASE_URL (or TTS_API_KEY for OpenAI)"

    def languages(self) -> list[str]:
        return ["*"] if self.configured else []

    def code(self, language: str) -> str | None:
        return canonical(language) if self.configured else None

    def voice_for(self, language: str) -> str | None:
        return OPENAI_VOICES[0] if self.configured else None

    def voices(self) -> list[Voice]:
        if not self.configured:
            return []
        return [self.voice(v, "*", v) for v in OPENAI_VOICES]

    def check(self, voice: str) -> str:
        self.require()
        if not _OPENAI_NAME.match(voice):
            raise UnknownVoice(f"{voice!r} is not a voice name")
        return voice

    def version(self, voice):
        return f"{self.settings.voice.tts_base_url or 'api.openai.com'}/{self.settings.voice.tts_model}/{voice}"

    def synthesize(self, text, language, out_path, *, voice, speed):
        import openai

        client = openai.OpenAI(
            api_key=self.settings.voice.tts_api_key or "none",
            base_url=self.settings.voice.tts_base_url,
            http_client=self._get_http_client(),
            max_retries=1,
            timeout=self.settings.voice.tts_timeout,
        )
        try:
            reply = client.audio.speech.create(
                model=self.settings.voice.tts_model,
                voice=voice or OPENAI_VOICES[0],
                input=text,
                response_format="wav",
                speed=speed,
            )
            audio = reply.content
        except openai.APITimeoutError as exc:
            raise VoiceError(
                f"the openai voice gave no answer within {self.settings.voice.tts_timeout:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise VoiceError(f"the openai voice could not be reached at {client.base_url}") from exc
        except openai.APIStatusError as exc:
            raise VoiceError(
                f"the openai voice answered {exc.status_code}: {first_line(exc)}"
            ) from exc
        decode_to_wav(audio, out_path, OPENAI_SAMPLE_RATE, "the openai voice", ".part.audio")
        return None
