"""What the voice tests share: a fresh Edge voice list around each test (an
autouse fixture: import it into the test module) and a check of word timings."""

import pytest

from reelsmith.voice.engines.edge import reset_edge_voice_list


@pytest.fixture(autouse=True)
def fresh_edge_list():
    reset_edge_voice_list()
    yield
    reset_edge_voice_list()


def assert_timings(segment):
    """One timing per token, in order, monotonic, inside the audio."""
    assert [w.text for w in segment.words] == segment.text.split()
    previous = 0.0
    for w in segment.words:
        assert previous <= w.start <= w.end <= segment.duration + 1e-6
        previous = w.end
