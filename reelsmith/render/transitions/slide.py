"""Slide: the incoming picture pushes the outgoing one out to the left."""

from __future__ import annotations

import numpy as np

from reelsmith.render.transitions.base import ease


def slide(a: np.ndarray, b: np.ndarray, p: float, split=lambda f: (f,)) -> np.ndarray:
    """``b`` pushes ``a`` out to the left."""
    out = np.empty_like(a)
    width = a.shape[1]
    x = 2 * round(width * ease(p) / 2)  # even, so the half-width chroma planes move with the luma
    for pa, pb, po in zip(split(a), split(b), split(out)):
        w = pa.shape[1]
        k = x * w // width
        po[:, : w - k] = pa[:, k:]
        po[:, w - k :] = pb[:, :k]
    return out
