"""Speaker-robust frames for alignment: MFCCs (librosa) without the energy
coefficient, less their mean over the utterance, with their deltas, compared
by cosine distance. The mean removes most of what differs between two voices
(the channel, the vocal tract's average shape) and the cosine ignores
loudness; what is left is what the sounds share: the shape of the spectrum
and how it moves from one phoneme to the next. (Also dividing by each
coefficient's deviation was tried: benchmarks/align.py's p90 rose from about
80 to about 100 ms.)"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

FRAME_SECONDS = 0.01  # one feature frame every 10 ms
N_MFCC = 20
N_MELS = 40


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(float32 samples in -1..1, rate) of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.astype(np.float32) / 32768.0, rate


def features(samples: np.ndarray, rate: int) -> np.ndarray:
    """(frames, dims) features, one row per ``FRAME_SECONDS`` starting at 0."""
    import librosa

    hop = round(rate * FRAME_SECONDS)
    n_fft = 1 << int(np.ceil(np.log2(rate * 0.025)))  # a 25 ms window, as a power of two
    if len(samples) < n_fft:
        samples = np.pad(samples, (0, n_fft - len(samples)))
    mfcc = librosa.feature.mfcc(
        y=samples,
        sr=rate,
        n_mfcc=N_MFCC + 1,
        n_fft=n_fft,
        hop_length=hop,
        n_mels=N_MELS,
        fmin=60.0,
        fmax=min(7600.0, rate / 2),
    )[1:]
    mfcc -= mfcc.mean(axis=1, keepdims=True)  # cepstral mean: the channel and the speaker's average
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2)) if mfcc.shape[1] >= 3 else 0
    delta = librosa.feature.delta(mfcc, width=width) if width >= 3 else np.zeros_like(mfcc)
    return np.vstack([mfcc, delta]).T.astype(np.float64)
