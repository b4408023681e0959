"""Speed that means what it says.

An offline voice's own speed control is not exact: at 1.5, Piper's
``length_scale`` and espeak-ng's rate make a sentence 0.70-0.75 as long, not
0.67. So each offline voice is measured once per process and speed: a fixed
text spoken at 1.0 and at the speed; the audio it then speaks at that speed
gets an ffmpeg ``atempo`` of the small factor left over (about 1.08 at 1.5),
so its length is its length at 1.0 over the speed. The pauses the video puts
between sentences follow the speed too (``render.audio.narration_track``)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from reelsmith.core.languages import canonical, split_sentences
from reelsmith.voice.engines.base import Engine, wav_format

EXACT_ENOUGH = 0.01  # a leftover factor closer to 1 than this is left alone
ROUNDS = 2  # the sample is spoken this many times at each speed (Piper varies a little each time)
_FACTORS: dict[tuple, float] = {}
_LOCK = threading.Lock()


def leftover_tempo(
    engine: Engine, voice: str | None, language: str, speed: float, sample: str
) -> float:
    """The ``atempo`` factor that makes ``engine``'s native ``speed`` exact
    (1.0: none needed), measured on ``sample`` once per process. Online
    voices are not measured (each call would cost a request): 1.0."""
    if speed == 1.0 or not engine.native_speed or not engine.offline:
        return 1.0
    key = (engine.name, engine.version(voice), canonical(language), round(float(speed), 3))
    with _LOCK:
        if key not in _FACTORS:
            with tempfile.TemporaryDirectory() as tmp:
                lengths = []
                for rate in (1.0, speed):  # sentence by sentence, as a narration speaks
                    lengths.append(0.0)
                    for i, sentence in enumerate(split_sentences(sample) * ROUNDS):
                        path = Path(tmp) / f"{rate}-{i}.wav"
                        engine.synthesize(sentence, language, path, voice=voice, speed=rate)
                        sample_rate, frames = wav_format(path)
                        lengths[-1] += frames / sample_rate
            factor = lengths[1] * speed / lengths[0] if lengths[0] > 0 else 1.0
            _FACTORS[key] = 1.0 if abs(factor - 1.0) < EXACT_ENOUGH else factor
        return _FACTORS[key]
