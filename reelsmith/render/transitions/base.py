"""What every transition shares: the easing curve, and the form a blend takes.

A blend takes the outgoing and incoming frames ``a`` and ``b``, the progress
``p`` (0..1) and ``split``, which gives a frame's planes (an RGB frame is
one; I420 has three), and returns the blended frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Blend = Callable[..., np.ndarray]


def ease(p: float) -> float:
    """Slow in, slow out: 0 at 0, 1 at 1 (``p`` is clamped)."""
    return 0.5 - 0.5 * math.cos(math.pi * min(max(p, 0.0), 1.0))
