"""Edge: Microsoft Edge's neural voices through ``edge-tts`` (online, no
key); word timings from its WordBoundary events; speed as a rate. Its voice
list is fetched once per process with a short timeout, and a failure is
remembered for a while, so an offline machine never waits on it twice."""

from __future__ import annotations

import asyncio
import re
import threading
import time

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import base, canonical, for_engine
from reelsmith.voice.engines.base import Engine, Voice, decode_to_wav, first_line, locate

EDGE_SAMPLE_RATE = 24000
EDGE_LIST_TIMEOUT = 3.0  # seconds to fetch Edge's voice list (the page must not hang offline)
EDGE_LIST_RETRY = 300.0  # seconds before a failed voice-list fetch is tried again
# A voice per language when Edge's list cannot be fetched (offline start-up).
EDGE_DEFAULTS = {
    "en": "en-US-AriaNeural",
    "de": "de-DE-KatjaNeural",
    "fr": "fr-FR-DeniseNeural",
    "es": "es-ES-ElviraNeural",
    "it": "it-IT-ElsaNeural",
    "pt": "pt-BR-FranciscaNeural",
    "nl": "nl-NL-ColetteNeural",
    "pl": "pl-PL-ZofiaNeural",
    "ru": "ru-RU-SvetlanaNeural",
    "tr": "tr-TR-EmelNeural",
    "ar": "ar-SA-ZariyahNeural",
    "hi": "hi-IN-SwaraNeural",
    "zh-CN": "zh-CN-XiaoxiaoNeural",
    "zh-TW": "zh-TW-HsiaoChenNeural",
    "zh-HK": "zh-HK-HiuMaanNeural",
    "ja": "ja-JP-NanamiNeural",
    "ko": "ko-KR-SunHiNeural",
}
_EDGE_NAME = re.compile(r"^[a-z]{2,3}-[A-Za-z0-9]{2,8}(-[A-Za-z0-9]+)?-[A-Za-z0-9]+Neural$")
_EDGE_LIST: dict = {"voices": None, "error": None, "at": 0.0}
_EDGE_LIST_LOCK = threading.Lock()


def _run(coroutine, timeout: float):
    """Run an edge-tts coroutine to its end or ``timeout`` from sync code (a
    worker thread, the CLI) on a loop of its own."""

    async def bounded():
        return await asyncio.wait_for(coroutine, timeout)

    return asyncio.run(bounded())


def edge_voice_list() -> tuple[list[dict] | None, str | None]:
    """Edge's voice list (fetched once per process with a short timeout) and,
    when it could not be fetched, why. A failure is remembered for
    EDGE_LIST_RETRY seconds so an offline page never waits on it again."""
    import edge_tts

    with _EDGE_LIST_LOCK:
        fresh = time.monotonic() - _EDGE_LIST["at"] < EDGE_LIST_RETRY
        if _EDGE_LIST["voices"] is not None or (_EDGE_LIST["error"] and fresh):
            return _EDGE_LIST["voices"], _EDGE_LIST["error"]
        try:
            _EDGE_LIST["voices"] = _run(edge_tts.list_voices(), EDGE_LIST_TIMEOUT)
            _EDGE_LIST["error"] = None
        except Exception as exc:
            _EDGE_LIST["error"] = _edge_reason(exc, EDGE_LIST_TIMEOUT)
        _EDGE_LIST["at"] = time.monotonic()
        return _EDGE_LIST["voices"], _EDGE_LIST["error"]


def reset_edge_voice_list() -> None:
    with _EDGE_LIST_LOCK:
        _EDGE_LIST.update(voices=None, error=None, at=0.0)


def _edge_reason(exc: BaseException, timeout: float) -> str:
    import aiohttp

    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.WSServerHandshakeError) or isinstance(
        exc, aiohttp.ClientResponseError
    ):
        return f"the server refused: {exc.status} {exc.message}".strip()
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "could not connect to Microsoft's speech service"
    return first_line(exc)


def _edge_rate(speed: float) -> str:
    return f"{round((speed - 1) * 100):+d}%"


class EdgeEngine(Engine):
    """Microsoft Edge's neural voices through edge-tts: online, free, no key."""

    name = "edge"
    description = "Microsoft Edge's neural voices, 70+ languages (online, no key)"
    offline = False
    word_timings = True
    auto_rank = 1  # when Microsoft's service answers
    typical_pace = 2.7

    def unavailable(self) -> str | None:
        return edge_voice_list()[1]

    def _list(self) -> list[dict]:
        voices, _ = edge_voice_list()
        return voices or []

    def languages(self) -> list[str]:
        listed = self._list()
        if listed:
            return sorted({v["Locale"] for v in listed})
        return sorted(EDGE_DEFAULTS)

    def voice_for(self, language: str) -> str | None:
        """Our default for the language when Edge has it, else its first
        voice for the locale."""
        tag = canonical(language)
        listed = self._list()
        default = EDGE_DEFAULTS.get(tag) or EDGE_DEFAULTS.get(base(tag))
        if (
            default
            and (tag == base(tag) or default.startswith(tag + "-"))
            and (not listed or any(v["ShortName"] == default for v in listed))
        ):
            return default
        locale = for_engine("edge", tag, [v["Locale"] for v in listed])
        if locale is None:
            return None
        return next(v["ShortName"] for v in listed if v["Locale"] == locale)

    def code(self, language: str) -> str | None:
        return self.voice_for(language)

    def voices(self) -> list[Voice]:
        return [
            self.voice(
                v["ShortName"],
                canonical(v["Locale"]),
                v.get("FriendlyName") or v["ShortName"],
                gender=v.get("Gender"),
            )
            for v in self._list()
        ]

    def check(self, voice: str) -> str:
        listed = self._list()
        if listed:
            by_lower = {v["ShortName"].lower(): v["ShortName"] for v in listed}
            if voice.lower() in by_lower:
                return by_lower[voice.lower()]
            raise UnknownVoice(f"Edge has no voice {voice!r}")
        if _EDGE_NAME.match(voice):  # the list is unreachable: accept well-formed names
            return voice
        raise UnknownVoice(f"{voice!r} is not an Edge voice name (like de-DE-KatjaNeural)")

    def version(self, voice):
        return f"edge/{voice}"

    def language_of(self, voice, language):
        return canonical("-".join(voice.split("-")[:2])) if voice else language

    def synthesize(self, text, language, out_path, *, voice, speed):
        import edge_tts

        voice = voice or self.voice_for(language)
        if voice is None:
            raise VoiceError(f"Edge has no voice for {language!r}")
        timeout = self.settings.voice.edge_tts_timeout
        communicate = edge_tts.Communicate(
            text,
            voice,
            rate=_edge_rate(speed),
            boundary="WordBoundary",
            connect_timeout=max(1, round(timeout)),
            receive_timeout=max(1, round(timeout)),
        )
        audio = bytearray()
        boundaries: list[tuple[str, float, float]] = []

        async def collect():
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    audio.extend(chunk["data"])
                elif chunk["type"] == "WordBoundary":
                    start = chunk["offset"] / 1e7  # 100 ns units
                    boundaries.append((chunk["text"], start, start + chunk["duration"] / 1e7))

        try:
            _run(collect(), timeout * 3)
        except Exception as exc:
            raise VoiceError(
                f"Edge's voice could not be reached: {_edge_reason(exc, timeout)}"
            ) from exc
        decode_to_wav(bytes(audio), out_path, EDGE_SAMPLE_RATE, "Edge", ".part.mp3")
        return locate(text, boundaries)
