"""What every voice engine is (``Engine``), the voices it lists (``Voice``),
and the helpers engines share: a lazily built per-process resource, WAV
writing, decoding any audio to WAV with ffmpeg, and placing the words an
engine reports by their text."""

from __future__ import annotations

import importlib.metadata
import subprocess
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from reelsmith.core.exceptions import VoiceError
from reelsmith.core.languages import for_engine
from reelsmith.core.settings import Settings
from reelsmith.voice.words import Mark

FFMPEG_TIMEOUT = 60.0  # seconds to convert one sentence's audio
DEFAULT_ONLINE_PACE = 2.5  # words a second of an online voice, at speed 1
T = TypeVar("T")


@dataclass(frozen=True)
class Voice:
    """One voice for ``GET /api/voices``."""

    id: str  # "piper:en_US-joe-medium", "edge:de-DE-KatjaNeural", "openai:alloy"
    engine: str
    language: str  # a canonical tag ("en-US"), or "*" for any language
    name: str
    gender: str | None
    offline: bool
    word_timings: bool  # timings from the voice itself (else estimated)
    quality: str | None = None  # Piper: x_low, low, medium, high
    speakers: tuple[str, ...] = ()  # multi-speaker Piper models: "piper:<model>:<speaker>"


class Engine:
    """What every engine says about itself (the registry's columns) and does.

    An engine turns one sentence into a mono 16-bit PCM WAV and reports the
    word timings it knows as marks (see ``reelsmith.voice.words``), or None
    when it knows none. The class attributes and the hooks below are all the
    synthesizer knows of an engine: it never asks for one by name."""

    name: ClassVar[str]
    description: ClassVar[str]
    offline: ClassVar[bool]  # offline voices have their pace measured, online ones assumed
    word_timings: ClassVar[bool]  # gives its own word timings
    native_speed: ClassVar[bool] = True  # False: the synthesizer changes the tempo
    auto_rank: ClassVar[int | None] = None  # its turn in "auto" (None: auto never uses it)
    typical_pace: ClassVar[float] = DEFAULT_ONLINE_PACE  # words/s at speed 1, when online

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- what it speaks ---------------------------------------------------------
    def languages(self) -> list[str]:
        raise NotImplementedError

    @classmethod
    def language_names(cls) -> dict[str, str]:
        """Code -> English name of the languages it can name (for the page)."""
        return {}

    def code(self, language: str) -> str | None:
        """This engine's code for ``language`` (None: it does not speak it)."""
        return for_engine(self.name, language, self.languages())

    def supports(self, language: str) -> bool:
        return self.code(language) is not None

    def voices(self) -> list[Voice]:
        raise NotImplementedError

    def voice(self, key: str, language: str, name: str, **extra) -> Voice:
        """One of this engine's voices, ``<engine>:<key>``, for ``voices()``."""
        extra.setdefault("gender", None)
        return Voice(
            id=f"{self.name}:{key}",
            engine=self.name,
            language=language,
            name=name,
            offline=self.offline,
            word_timings=self.word_timings,
            **extra,
        )

    def voice_for(self, language: str) -> str | None:
        """The voice (engine-local name) to use for ``language``; None if none."""
        return self.code(language)

    def language_of(self, voice: str | None, language: str) -> str:
        """The language ``voice`` speaks when asked for ``language``."""
        return language

    # -- whether it can speak here ------------------------------------------------
    def require(self) -> None:
        """UnknownVoice when the engine is not set up on this machine (a
        missing setting): no voice of it can be chosen."""

    def unavailable(self) -> str | None:
        """Why it cannot speak here now (not set up, its service unreachable),
        or None. ``auto`` skips it, and the engine table says why."""
        return None

    def check(self, voice: str) -> str:
        """``voice`` (engine-local) normalised; UnknownVoice if unusable."""
        raise NotImplementedError

    def version(self, voice: str | None) -> str:
        """Names the voice and its version: part of the cache key."""
        raise NotImplementedError

    # -- speaking ---------------------------------------------------------------------
    def synthesize(
        self, text: str, language: str, out_path: Path, *, voice: str | None, speed: float
    ) -> list[Mark] | None:
        """Write ``text`` to ``out_path`` as mono 16-bit WAV; return the word
        marks it knows (None: none). VoiceError with a message for users."""
        raise NotImplementedError


# -- helpers --------------------------------------------------------------------------
class Lazy(Generic[T]):
    """A resource built on first use, once per process, thread-safely.
    A factory that raises leaves nothing behind, so the next use retries."""

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def write_wav(path: Path, samples: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)


def ffmpeg_to_wav(
    source: Path, wav_path: Path, rate: int, what: str, filters: str | None = None
) -> None:
    """Decode any audio ffmpeg reads into mono 16-bit ``rate`` Hz WAV
    (``filters``: an ``-af`` chain such as ``atempo=1.5``)."""
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-nostdin", "-v", "error", "-y", "-i", str(source)),
        *(["-af", filters] if filters else []),
        *("-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le"),
        # A plain RIFF header (no encoder tag), so the same input gives the same bytes.
        *("-map_metadata", "-1", "-flags", "+bitexact", "-fflags", "+bitexact"),
        str(wav_path),
    ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise VoiceError(f"decoding the audio from {what} took too long") from exc
    if proc.returncode != 0:
        raise VoiceError(f"the audio from {what} could not be decoded: {proc.stderr.strip()[:300]}")


def wav_format(path: Path) -> tuple[int, int]:
    """(sample rate, frames) of a WAV file; VoiceError unless mono 16-bit PCM."""
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getnchannels(), w.getsampwidth()) != (1, 2):
                raise VoiceError(f"{path.name} is not mono 16-bit audio")
            return w.getframerate(), w.getnframes()
    except (OSError, EOFError, wave.Error) as exc:
        raise VoiceError(f"{path.name} is not a readable WAV file ({exc})") from exc


def decode_to_wav(audio: bytes, out_path: Path, rate: int, what: str, suffix: str) -> None:
    """Write an engine's encoded ``audio`` (mp3, wav…) to ``out_path`` as WAV,
    through a part file beside it that is always removed."""
    part = out_path.with_suffix(suffix)
    try:
        part.write_bytes(audio)
        ffmpeg_to_wav(part, out_path, rate, what)
    finally:
        part.unlink(missing_ok=True)


def locate(text: str, words: list[tuple[str, float, float]]) -> list[Mark]:
    """Marks for words an engine reported by their text: each is found in
    ``text`` after the previous one (case-insensitively)."""
    lowered, cursor, marks = text.lower(), 0, []
    for word, start, end in words:
        at = lowered.find(word.lower(), cursor) if word else -1
        if at < 0:
            at = cursor
        else:
            cursor = at + len(word)
        marks.append((at, start, end))
    return marks
