"""The pauses around the spoken sentences, in seconds: the render places the
voice by them and the script's length budget leaves room for them. The
title card shows over the first sentences, so it adds no time."""

LEAD_IN = 0.4  # silence before the first sentence
GAP = 0.3  # silence between sentences
TAIL = 0.8  # after the last sentence
