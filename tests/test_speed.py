"""Speed means what it says: at 1.5 an offline voice's narration, pauses
included, is 1/1.5 as long as at 1.0 (within 5 %)."""

from __future__ import annotations

import pytest

from reelsmith.core.settings import Settings
from reelsmith.render.audio import narration_track
from reelsmith.voice.synthesizer import SpeechSynthesizer

SENTENCES = [
    "Octopuses have three hearts, and each one has a different job.",
    "Two of them pump blood through the gills to pick up oxygen.",
    "That is one reason octopuses prefer crawling to swimming.",
]


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_speed_scales_speech_and_pauses_alike(tmp_path, voice):
    lengths = {}
    for speed in (1.0, 1.5):
        narration = SpeechSynthesizer(Settings()).narrate(
            SENTENCES, tmp_path / str(speed), voice=voice, speed=speed
        )
        track = narration_track(narration)
        lengths[speed] = track.samples / track.rate
        assert narration.speed == speed
    # Piper's voice varies a little from one take to the next: the whole track is compared.
    assert lengths[1.5] / lengths[1.0] == pytest.approx(1 / 1.5, rel=0.05)
