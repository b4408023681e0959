"""Crossfade: the outgoing picture fades into the incoming one."""

from __future__ import annotations

import cv2
import numpy as np


def crossfade(a: np.ndarray, b: np.ndarray, p: float, split=None) -> np.ndarray:
    """``a`` fades into ``b`` (linear in ``p``, so the boundary is an even blend;
    the same per byte in RGB and in YUV, which is affine in RGB)."""
    return cv2.addWeighted(a, 1.0 - p, b, p, 0)
