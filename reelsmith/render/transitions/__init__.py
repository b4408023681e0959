"""Transitions between scenes: one file each, one line in ``TRANSITIONS``.

A transition blends the outgoing scene's picture into the incoming one over
its seconds, centred on their boundary (``render.backdrop``); only the
picture changes, never the caption or audio times.
"""

from __future__ import annotations

from reelsmith.core.exceptions import BadTransition
from reelsmith.render.transitions.base import Blend
from reelsmith.render.transitions.crossfade import crossfade
from reelsmith.render.transitions.slide import slide

TRANSITIONS: dict[str, Blend | None] = {
    "cut": None,
    "crossfade": crossfade,
    "slide": slide,
}
MAX_TRANSITION_SECONDS = 2.0


def check(name: str, seconds: float) -> tuple[str, float]:
    """``(name, seconds)`` if valid; else ``BadTransition`` naming the field."""
    if name not in TRANSITIONS:
        raise BadTransition(
            f"transition must be one of {', '.join(TRANSITIONS)} (got {name!r})", field="transition"
        )
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise BadTransition(
            "transition_seconds must be a number", field="transition_seconds"
        ) from None
    if not 0 < value <= MAX_TRANSITION_SECONDS:  # also refuses NaN
        raise BadTransition(
            f"transition_seconds must be more than 0 and at most {MAX_TRANSITION_SECONDS:g}",
            field="transition_seconds",
        )
    return name, value
