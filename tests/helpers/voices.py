"""What the voice tests share: a check of word timings."""


def assert_timings(segment):
    """One timing per token, in order, monotonic, inside the audio."""
    assert [w.text for w in segment.words] == segment.text.split()
    previous = 0.0
    for w in segment.words:
        assert previous <= w.start <= w.end <= segment.duration + 1e-6
        previous = w.end
