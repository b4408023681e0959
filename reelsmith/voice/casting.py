"""More than one voice in a video: scenes that name their own voice.

A create request's ``scenes[i].voice`` speaks that scene in another voice
than the request's. ``narrate_cast`` has each voice say its own sentences,
resampled to the rate of the request's voice (one soundtrack has one rate);
word timings are kept.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg

from reelsmith.core.exceptions import VoiceError
from reelsmith.voice.synthesizer import Narration, SpeechSynthesizer


def narrate_cast(
    synthesizer: SpeechSynthesizer,
    sentences: list[str],
    voices: Sequence[str | None],
    work_dir: Path,
    *,
    language: str,
    voice: str | None,
    speed: float,
) -> Narration:
    """The narration of ``sentences``, sentence ``i`` in ``voices[i]`` when
    given (else ``voice``): each voice speaks its own sentences, and all are
    put at the rate of the request's voice. A scene's voice that fails is
    ``VoiceError`` naming the scene."""
    cast = [(voices[i] if i < len(voices) and voices[i] else voice) for i in range(len(sentences))]
    if all(v == voice for v in cast):
        return synthesizer.narrate(sentences, work_dir, language=language, voice=voice, speed=speed)
    groups: dict[str | None, list[int]] = {}
    for i, v in enumerate(cast):
        groups.setdefault(v, []).append(i)
    spoken: dict[str | None, Narration] = {}
    for k, (v, indexes) in enumerate(groups.items()):
        try:
            spoken[v] = synthesizer.narrate(
                [sentences[i] for i in indexes],
                Path(work_dir) / f"voice_{k}",
                language=language,
                voice=v,
                speed=speed,
            )
        except VoiceError as exc:
            if v == voice:
                raise
            raise VoiceError(f"scenes[{indexes[0]}].voice ({v}): {exc.message}") from exc
    main = spoken.get(voice) or next(iter(spoken.values()))
    segments = [None] * len(sentences)
    for v, indexes in groups.items():
        for i, segment in zip(indexes, spoken[v].segments):
            if spoken[v].sample_rate != main.sample_rate:
                path = segment.path.with_suffix(f".{main.sample_rate}.wav")
                _resample(segment.path, path, main.sample_rate)
                segment = replace(segment, path=path)
            segments[i] = segment
    return replace(main, segments=segments)


def _resample(src: Path, dst: Path, rate: int) -> None:
    """``src`` as a mono 16-bit WAV at ``rate`` (the bundled ffmpeg)."""
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(src)]
        + ["-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(dst)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise VoiceError(f"could not resample a scene's voice: {done.stderr.strip()[:200]}")
