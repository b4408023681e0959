"""A narration recorded in the test: the Piper voice saying sentences with
pauses between them, as one WAV, with Piper's own word starts in it (the
ground truth an alignment is checked against); and other formats of it."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from reelsmith.core.settings import Settings
from reelsmith.voice.engines.piper import PiperEngine
from reelsmith.voice.words import speech_bounds, words_from_marks


def piper_recording(
    folder: Path, sentences: list[str], pause: float = 0.6, lead: float = 0.5
) -> tuple[Path, list[list[float]]]:
    """``folder/narration.wav`` and, per sentence, its words' start times in it."""
    engine = PiperEngine(Settings())
    pcm, truth, at, rate = [], [], lead, 22050
    for i, text in enumerate(sentences):
        path = folder / f"s{i}.wav"
        marks = engine.synthesize(text, "en", path, voice=None, speed=1.0)
        with wave.open(str(path), "rb") as w:
            rate = w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        words = words_from_marks(text, marks, len(samples) / rate, speech_bounds(path)[1])
        truth.append([at + w.start for w in words])
        pcm += [samples, np.zeros(int(pause * rate), dtype=np.int16)]
        at += len(samples) / rate + pause
    out = folder / "narration.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate([np.zeros(int(lead * rate), dtype=np.int16), *pcm]).tobytes())
    return out, truth


def encode(source: Path, out: Path) -> Path:
    """``source`` in the format of ``out``'s suffix (mp3, m4a, ogg…), by the bundled ffmpeg."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), str(out)],
        check=True,
    )
    return out
