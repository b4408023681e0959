"""Transitions between scenes: one file each, one line in ``TRANSITIONS``.

A transition blends the outgoing scene's picture into the incoming one over
its seconds, centred on their boundary (``render.backdrop``); only the
picture changes, never the caption or audio times.
"""

from __future__ import annotations

from reelsmith.render.transitions.base import Blend
from reelsmith.render.transitions.crossfade import crossfade
from reelsmith.render.transitions.slide import slide

TRANSITIONS: dict[str, Blend | None] = {
    "cut": None,
    "crossfade": crossfade,
    "slide": slide,
}
MAX_TRANSITION_SECONDS = 2.0
