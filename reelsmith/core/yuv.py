"""yuv420p (I420) frames, the form x264 encodes: one array of shape
(h * 3 / 2, w) holding the Y plane (h x w), then U and V (h/2 x w/2 each),
BT.601 limited range, as OpenCV's ``COLOR_RGB2YUV_I420`` makes it.

The render makes its frames in this form directly (``frame_yuv`` of every
background, ``Overlay.apply_yuv``): half the bytes of RGB, and no full-size
colour conversion per frame.
"""

from __future__ import annotations

import cv2
import numpy as np


def frame_to_yuv(rgb: np.ndarray) -> np.ndarray:
    """An RGB frame (h x w x 3) as one I420 array."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)


def yuv_to_rgb(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_YUV2RGB_I420)


def planes(frame: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (h x w), U and V (h/2 x w/2) planes of an I420 frame:
    writing into them writes into ``frame``."""
    flat = frame.reshape(-1)
    y, quarter = w * h, w * h // 4
    return (
        flat[:y].reshape(h, w),
        flat[y : y + quarter].reshape(h // 2, w // 2),
        flat[y + quarter : y + 2 * quarter].reshape(h // 2, w // 2),
    )
