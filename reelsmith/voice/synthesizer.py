"""Speak a script, one WAV per sentence, with a timing for every word.

The engines (``reelsmith.voice.engines``, one per file) are listed once, in
``ENGINES``; that table feeds ``auto``, validation (``check_voice``),
``list_voices`` and ``engine_table`` (for ``GET /api/voices``). This module
knows engines only through that table and the ``Engine`` class: adding an
engine is one class and one line.

Voice ids: ``auto``; an engine name (its default voice for the language);
or ``engine:voice`` such as ``piper:en_US-joe-medium``,
``piper:<model>:<speaker>``, ``edge:de-DE-KatjaNeural``, ``openai:alloy``,
``espeak:de``, ``gtts:fr``.

``auto`` tries the engines that have an ``auto_rank``, in that order
(Piper's voices for the language, offline; Edge when Microsoft's service
answers; gTTS; espeak, offline, for every language it speaks), skipping
those that are ``unavailable()`` and falling back on failure, recording why
in ``Narration.fallback_reason``. Every sentence of one narration comes
from one voice: when a voice fails on any sentence, the whole script is
redone with the next.

``speed`` (0.5-2.0) is native where the engine has it (``native_speed``),
made exact for offline voices (``tempo.leftover_tempo``); otherwise the audio
gets an ffmpeg ``atempo`` (tempo without a pitch change); word timings follow.

Word timings (``SpeechSegment.words``, one per ``text.split()`` token) come
from the engine where it knows them ("engine"), else from aligning the audio
against espeak-ng saying the sentence ("aligned": ``voice.alignment``), and
are estimated only when that fails ("estimated": ``words.estimate_marks``;
the reason in ``timing_note``). Emoji and pictographs are never
sent to a voice (``words.speakable``) but keep their (zero-length) timing.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cache import Cache, make_key
from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import base, canonical, split_sentences, word_count
from reelsmith.core.settings import Settings
from reelsmith.voice.alignment.recording import timed_words
from reelsmith.voice.catalogue import (
    check_voice,
    engine_table,
    language_names,
    last_resort,
    list_voices,
    parse_voice_id,
)
from reelsmith.voice.engines import ENGINES, Engine, Voice
from reelsmith.voice.engines.base import ffmpeg_to_wav, wav_format, write_wav
from reelsmith.voice.tempo import leftover_tempo
from reelsmith.voice.words import (
    WordTiming,
    has_speech,
    scale_words,
    speakable,
)

__all__ = [
    "ENGINES",
    "Narration",
    "SpeechSegment",
    "SpeechSynthesizer",
    "Voice",
    "WordTiming",
    "check_voice",
    "engine_table",
    "language_names",
    "list_voices",
    "preview",
    "speakable",
    "words_per_second",
]

MIN_SPEED, MAX_SPEED = 0.5, 2.0
SILENCE_SECONDS = 0.4  # a sentence with nothing to say (only emoji)
PREVIEW_TEXTS = {  # also the fixed text whose pace words_per_second measures
    "en": "Octopuses have three hearts and blue blood. Two hearts pump blood through the "
    "gills, and the third feeds the rest of the body. When an octopus swims, that "
    "heart stops beating.",
    "de": "Kraken haben drei Herzen und blaues Blut. Zwei Herzen pumpen das Blut durch die "
    "Kiemen, das dritte versorgt den Körper.",
    "fr": "Les pieuvres ont trois cœurs et le sang bleu. Deux cœurs pompent le sang dans les "
    "branchies, le troisième nourrit le corps.",
    "es": "Los pulpos tienen tres corazones y sangre azul. Dos corazones bombean la sangre "
    "por las branquias y el tercero alimenta el cuerpo.",
    "zh": "章鱼有三颗心脏和蓝色的血液。两颗心脏把血液送到鳃里，第三颗供应全身。",
    "ja": "タコには心臓が三つあり、血は青い色です。二つの心臓がえらに血を送ります。",
    "ko": "문어는 심장이 세 개이고 피는 파란색입니다. 두 심장은 아가미로 피를 보냅니다.",
}


@dataclass
class SpeechSegment:
    text: str
    path: Path  # WAV file
    duration: float  # seconds, from the WAV header (frames / rate)
    # One entry per whitespace-separated token of ``text``, in order, monotonic,
    # inside [0, duration]. Empty when nothing is known (captions then estimate).
    words: list[WordTiming] = field(default_factory=list)
    # "engine": the voice's own; "aligned": forced alignment; "transcribed": speech-to-text
    word_timing: str = "estimated"
    timing_note: str | None = None  # why an alignment fell back to "estimated"


@dataclass
class Narration:
    segments: list[SpeechSegment]
    engine: str  # the engine that actually spoke
    language: str
    sample_rate: int  # all segments share it
    fallback_reason: str | None = None  # why "auto" did not use its first choice
    voice: str | None = None  # the voice id that spoke, e.g. "piper:en_US-joe-medium"
    speed: float = 1.0

    @property
    def word_timing(self) -> str:
        """ "engine" when every sentence's word timings came from the voice,
        "aligned" when some were aligned and none estimated, else "estimated"."""
        methods = {s.word_timing for s in self.segments}
        order = ("estimated", "aligned", "transcribed")
        return next((m for m in order if m in methods), "engine")

    @property
    def timing_note(self) -> str | None:
        notes = [
            f"sentence {i + 1}: {s.timing_note}"
            for i, s in enumerate(self.segments)
            if s.timing_note
        ]
        return "; ".join(notes) or None

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


# -- synthesis ------------------------------------------------------------------------
class SpeechSynthesizer:
    def __init__(
        self,
        settings: Settings,
        cache: Cache | None = None,
        engines: dict[str, Engine] | None = None,
    ):
        self.settings = settings
        self.cache = cache
        self.engines: dict[str, Engine] = engines or {
            name: cls(self.settings) for name, cls in ENGINES.items()
        }
        self.engine_calls = 0  # real synthesis calls; cache hits don't count
        self._calls_lock = threading.Lock()

    def narrate(
        self,
        sentences: list[str],
        work_dir: Path,
        *,
        language: str = "en",
        voice: str | None = None,
        speed: float = 1.0,
    ) -> Narration:
        """Speak each sentence into ``work_dir/voice_{i:03d}.wav``.

        ``voice`` (default ``settings.voice.tts_engine``) is a voice id. A named
        voice that fails raises VoiceError; only ``auto`` falls back
        (``fallback_reason``)."""
        sentences = [s.strip() for s in sentences if s and s.strip()]
        if not sentences:
            raise VoiceError("there is nothing to say: the script has no sentences")
        if not MIN_SPEED <= float(speed) <= MAX_SPEED:
            raise VoiceError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}")
        work_dir = Path(work_dir)
        engine_name, voice_name = parse_voice_id(voice or self.settings.voice.tts_engine or "auto")
        if engine_name != "auto":
            if voice_name is not None:
                voice_name = self._engine(engine_name).check(voice_name)
            return self._narrate_with(engine_name, voice_name, sentences, work_dir, language, speed)
        reasons: list[str] = []
        last_error: VoiceError | None = None
        for name, candidate_voice, skipped in self.auto_candidates(language):
            if skipped:
                reasons.append(f"{name}: {skipped}")
                continue
            try:
                narration = self._narrate_with(
                    name, candidate_voice, sentences, work_dir, language, speed
                )
            except VoiceError as exc:
                reasons.append(f"{name}: {exc.message}")
                last_error = exc
                continue
            if reasons:
                narration.fallback_reason = "; ".join(reasons) + f"; used {name}"
            return narration
        if last_error is None:
            raise VoiceError(
                f"no voice speaks {language!r}" + (f" ({'; '.join(reasons)})" if reasons else "")
            )
        raise VoiceError(
            f"{last_error.message} (after {'; '.join(reasons[:-1])})"
            if len(reasons) > 1
            else last_error.message
        ) from last_error

    def auto_candidates(self, language: str):
        """Yields the (engine, voice, skip reason) ``auto`` tries for
        ``language``, in order, lazily: Edge's reachability is only asked
        when the engines before it failed. A skipped engine has a reason."""
        ranked = [e for e in self.engines.values() if e.auto_rank is not None]
        for engine in sorted(ranked, key=lambda e: e.auto_rank):
            error = engine.unavailable()
            if error is not None:
                if engine.voice_for(language):
                    yield engine.name, None, f"unreachable ({error})"
                continue
            voice = engine.voice_for(language)
            if voice is not None:
                yield engine.name, voice, None

    def cache_key(
        self,
        engine_name: str,
        text: str,
        language: str,
        voice: str | None = None,
        speed: float = 1.0,
    ) -> str:
        engine = self._engine(engine_name)
        return make_key(
            "tts3",  # 3: aligned timings, exact speed
            engine.name,
            engine.version(voice),
            canonical(language),
            round(float(speed), 3),
            text,
        )

    def _engine(self, name: str) -> Engine:
        engine = self.engines.get(name)
        if engine is None:
            raise UnknownVoice(
                f"unknown voice engine {name!r} (choose from auto, {', '.join(self.engines)})"
            )
        return engine

    def _narrate_with(
        self,
        name: str,
        voice: str | None,
        sentences: list[str],
        work_dir: Path,
        language: str,
        speed: float,
    ) -> Narration:
        engine = self._engine(name)
        if voice is None:
            if not engine.supports(language):
                raise VoiceError(f"the {name} voice does not speak {language!r}")
            voice = engine.voice_for(language)
        work_dir.mkdir(parents=True, exist_ok=True)
        segments: list[SpeechSegment] = []
        silent: list[int] = []
        sample_rate: int | None = None
        for i, text in enumerate(sentences):
            path = work_dir / f"voice_{i:03d}.wav"
            if not has_speech(text):
                silent.append(i)
                segments.append(SpeechSegment(text=text, path=path, duration=SILENCE_SECONDS))
                continue
            rate, frames, words, method, note = self._speak(
                engine, voice, text, language, speed, path
            )
            if sample_rate not in (None, rate):
                raise VoiceError(
                    f"the {name} voice changed sample rate mid-script ({sample_rate} -> {rate} Hz)"
                )
            sample_rate = rate
            segments.append(
                SpeechSegment(
                    text=text,
                    path=path,
                    duration=frames / rate,
                    words=words,
                    word_timing=method,
                    timing_note=note,
                )
            )
        if sample_rate is None:
            raise VoiceError("there is nothing to say: the script has only emoji and symbols")
        for i in silent:  # only emoji: a short pause, its tokens zero-length at 0
            frames = round(SILENCE_SECONDS * sample_rate)
            write_wav(segments[i].path, b"\0\0" * frames, sample_rate)
            segments[i].duration = frames / sample_rate
            segments[i].words = [WordTiming(t, 0.0, 0.0) for t in segments[i].text.split()]
            segments[i].word_timing = "engine" if engine.word_timings else "aligned"
        voice_id = f"{name}:{voice}" if voice else name
        return Narration(
            segments=segments,
            engine=name,
            language=language,
            sample_rate=sample_rate,
            voice=voice_id,
            speed=speed,
        )

    def _speak(
        self, engine: Engine, voice: str | None, text: str, language: str, speed: float, path: Path
    ) -> tuple[int, int, list[WordTiming], str, str | None]:
        """Write one sentence's WAV to ``path``, from the cache when it can;
        returns (sample rate, frames, word timings, how they were found, why
        an alignment fell back).
        Only checked audio is cached, with its word timings."""
        key = (
            self.cache_key(engine.name, text, language, voice, speed)
            if self.cache is not None
            else None
        )
        if key is not None:
            cached = self.cache.get(key)
            if isinstance(cached, dict) and "wav" in cached:
                path.write_bytes(cached["wav"])
                rate, frames = wav_format(path)
                words = [WordTiming(*w) for w in cached["words"]]
                return rate, frames, words, cached["word_timing"], cached.get("timing_note")
        with self._calls_lock:
            self.engine_calls += 1
        spoken = speakable(text)
        native = engine.native_speed or speed == 1.0
        tempo = (
            leftover_tempo(engine, voice, language, speed, _sample_text(language))
            if native
            else speed
        )
        marks = engine.synthesize(
            spoken, language, path, voice=voice, speed=speed if native else 1.0
        )
        rate, frames = wav_format(path)
        if frames == 0:
            raise VoiceError(f"the {engine.name} voice produced no audio for {text!r}")
        words, method, note = timed_words(text, language, path, marks)
        if tempo != 1.0:  # tempo change without a pitch change; timings follow
            stretched = path.with_suffix(".tempo.wav")
            ffmpeg_to_wav(path, stretched, rate, "the tempo change", filters=f"atempo={tempo:g}")
            stretched.replace(path)
            rate, frames = wav_format(path)
            words = scale_words(words, 1 / tempo, frames / rate)
        if key is not None:
            self.cache.set(
                key,
                {
                    "wav": path.read_bytes(),
                    "word_timing": method,
                    "timing_note": note,
                    "words": [(w.text, w.start, w.end) for w in words],
                },
            )
        return rate, frames, words, method, note


# -- previews and pace -----------------------------------------------------------------
def _sample_text(language: str) -> str:
    return PREVIEW_TEXTS.get(base(language), PREVIEW_TEXTS["en"])


def _voice_language(voice_id: str, language: str | None, settings: Settings) -> str:
    engine_name, voice = parse_voice_id(voice_id)
    if engine_name != "auto" and voice is not None:
        spoken = ENGINES[engine_name](settings).language_of(voice, language or "en")
        if spoken != "*":
            return spoken
    return language or "en"


def preview(
    voice_id: str,
    settings: Settings,
    cache: Cache | None = None,
    language: str | None = None,
) -> Path:
    """A short WAV of ``voice_id`` saying the first sentence of a fixed text
    in its language, kept under ``settings.storage.cache_dir/previews`` (made once;
    ``cache`` also spares the engine call). UnknownVoice for a bad id."""
    lang = _voice_language(voice_id, language, settings)
    voice_id = check_voice(voice_id, lang, settings)
    text = split_sentences(_sample_text(lang))[0]
    digest = hashlib.sha256(
        make_key("preview", voice_id, canonical(lang), text).encode()
    ).hexdigest()
    out = Path(settings.storage.cache_dir) / "previews" / f"{digest[:32]}.wav"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        narration = SpeechSynthesizer(settings, cache).narrate(
            [text], Path(tmp), language=lang, voice=voice_id
        )
        shutil.move(str(narration.segments[0].path), out)
    return out


_PACE: dict[tuple, float] = {}
_PACE_LOCK = threading.Lock()


def words_per_second(voice_id: str, speed: float, language: str, settings: Settings) -> float:
    """How many words a second the voice says at ``speed`` (``word_count``
    words: for Chinese, Japanese and Korean, characters).

    Offline voices (Piper, espeak) are measured once per process: the fixed
    text of ``PREVIEW_TEXTS`` in the language, sentence by sentence as a
    narration speaks it, words over seconds of audio (sentence-end silence
    included, the pauses a video adds between sentences not). Online voices
    use their engine's ``typical_pace``. ``auto`` means the voice auto would
    use now. Speed scales the pace linearly."""
    engine_name, voice = parse_voice_id(voice_id)
    if engine_name == "auto":
        candidates = [
            (name, v)
            for name, v, skipped in SpeechSynthesizer(settings).auto_candidates(language)
            if not skipped
        ]
        engine_name, voice = candidates[0] if candidates else (last_resort(), None)
    engine = ENGINES[engine_name](settings)
    if not engine.offline:
        return engine.typical_pace * speed
    if voice is None:
        voice = engine.voice_for(language)
    key = (engine_name, engine.version(voice), canonical(language))
    with _PACE_LOCK:
        if key not in _PACE:
            sentences = split_sentences(_sample_text(language))
            with tempfile.TemporaryDirectory() as tmp:
                narration = SpeechSynthesizer(settings).narrate(
                    sentences,
                    Path(tmp),
                    language=language,
                    voice=f"{engine_name}:{voice}" if voice else engine_name,
                )
            _PACE[key] = sum(word_count(s) for s in sentences) / narration.duration
        return _PACE[key] * speed
