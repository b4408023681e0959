"""The render benchmark's fixed inputs: the script, its narration, six
photos and six stock-like clips (made once, before the timed runs)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

SENTENCES = [
    "Octopuses have three hearts, and each one has a different job.",
    "Two of them pump blood through the gills to pick up oxygen.",
    "The third heart sends that blood around the rest of the body.",
    "When an octopus swims, that main heart actually stops beating.",
    "That is one reason octopuses would rather crawl than swim.",
    "Follow for more strange facts about the deep blue sea.",
]
TITLE = "Why octopuses have three hearts"


# -- the workload -----------------------------------------------------------
def make_narration(work: Path, seconds: float, sentences: list[str] = SENTENCES):
    """Voiced-like segments (tones with syllable envelopes), one per sentence
    (the six of ``SENTENCES`` unless given), filling ``seconds``."""
    from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
    from reelsmith.voice.synthesizer import Narration, SpeechSegment

    rate = 22050
    per = (seconds - LEAD_IN - TAIL - GAP * (len(sentences) - 1)) / len(sentences)
    segments = []
    for i, text in enumerate(sentences):
        t = np.arange(int(per * rate)) / rate
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
        samples = (np.sin(2 * np.pi * (140 + 20 * i) * t) * envelope * 9000).astype(np.int16)
        path = work / f"voice_{i:03d}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples.tobytes())
        segments.append(SpeechSegment(text=text, path=path, duration=len(samples) / rate))
    return Narration(segments=segments, engine="synthetic", language="en", sample_rate=rate)


def script():
    from reelsmith.script.text import Script

    return Script(title=TITLE, sentences=SENTENCES, description="", hashtags=[], source="user")


def make_photos(folder: Path) -> list[Path]:
    """Six 1200x2000 JPEG "photos" (smooth colour fields), one per sentence: made
    once, before the timed runs, in ``folder`` (the runs' shared one)."""
    from PIL import Image

    if folder.is_dir():
        return sorted(folder.glob("photo_*.jpg"))
    folder.mkdir()
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:2000, 0:1200].astype(np.float32)
    paths = []
    for i in range(len(SENTENCES)):
        base = rng.uniform(40, 215, 3)
        field = base + 40 * np.sin(
            xx[..., None] / (90 + 20 * i) + yy[..., None] / 170 + np.arange(3) * 2.1
        )
        path = folder / f"photo_{i}.jpg"
        Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def make_clips(folder: Path) -> list[Path]:
    """Six 5 s 1080x1920 H.264 "stock clips" (ffmpeg's moving test pattern, a
    different hue each), one per sentence: made once, before the timed runs."""
    import imageio_ffmpeg

    if folder.is_dir():
        return sorted(folder.glob("clip_*.mp4"))
    folder.mkdir()
    paths = []
    for i in range(len(SENTENCES)):
        path = folder / f"clip_{i}.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1080x1920:rate=25:duration=5",
                "-vf",
                f"hue=h={60 * i}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
        paths.append(path)
    return paths
