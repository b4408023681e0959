"""Transcription of an uploaded narration that came without its script:
any OpenAI-compatible ``/v1/audio/transcriptions`` (``STT_BASE_URL``,
``STT_API_KEY``, ``STT_MODEL``), asked for ``verbose_json`` with word
timestamps, as OpenAI and local faster-whisper servers answer it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelsmith.core.exceptions import VoiceError
from reelsmith.core.settings import VoiceSettings
from reelsmith.voice.engines.base import first_line


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[tuple[str, float, float]]  # (word, start, end) in seconds, in order


def _field(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def transcribe(recording: Path, settings: VoiceSettings) -> Transcript:
    """The recording's words and when each is said. VoiceError, in plain
    words, when the server is not set up, unreachable or gives no words."""
    import httpx
    import openai

    if not settings.stt_configured:
        raise VoiceError("a script is needed: no transcription server is set (STT_BASE_URL)")
    with httpx.Client() as http:
        client = openai.OpenAI(
            api_key=settings.stt_api_key or "none",
            base_url=settings.stt_base_url,
            http_client=http,
            max_retries=1,
            timeout=settings.stt_timeout,
        )
        try:
            with open(recording, "rb") as audio:
                reply = client.audio.transcriptions.create(
                    model=settings.stt_model,
                    file=audio,
                    response_format="verbose_json",
                    timestamp_granularities=["word"],
                )
        except openai.APITimeoutError as exc:
            raise VoiceError(
                f"the transcription server gave no answer within {settings.stt_timeout:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise VoiceError(
                f"the transcription server could not be reached at {client.base_url}"
            ) from exc
        except openai.APIStatusError as exc:
            raise VoiceError(
                f"the transcription server answered {exc.status_code}: {first_line(exc)}"
            ) from exc
    words = [
        (str(_field(w, "word")).strip(), float(_field(w, "start")), float(_field(w, "end")))
        for w in (_field(reply, "words") or [])
    ]
    text = (_field(reply, "text") or "").strip()
    if not text or not words:
        raise VoiceError("the transcription server gave no words with times for the recording")
    return Transcript(text=text, words=words)
