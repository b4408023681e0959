"""Draw the README's strip of offline frames (docs/offline_strip.png).

Renders two topics through the real pipeline with no key and no network
(the offline writer, the Piper voice, the default ``auto`` visuals, which
with no key is the icons look) at 270x480, then takes a frame from each
sentence of each video: 0.8 s after its icon's word, or the middle of the
sentence when it has no icon. One row per topic.

    .venv/bin/python docs/offline_strip.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import Pipeline  # noqa: E402
from reelsmith.core.settings import RenderSettings, Settings  # noqa: E402
from reelsmith.request import CreateRequest  # noqa: E402

TOPICS = ["the secret life of the octopus", "the history of coffee"]
SIZE = (270, 480)
PER_ROW = 5


def frame(video: Path, t: float) -> Image.Image:
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(video)]
        + ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return Image.frombytes("RGB", SIZE, raw)


def times(result: dict) -> list[float]:
    out = []
    for caption, visual in zip(result["captions"], result["visuals_per_sentence"]):
        icon = visual.get("icon")
        word = next((w for w in caption["words"] if icon and w["text"] == icon["word"]), None)
        at = word["start"] + 0.8 if word else (caption["start"] + caption["end"]) / 2
        out.append(min(at, caption["end"], result["duration"] - 0.05))
    return out[:PER_ROW]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.build(
            data_dir=Path(tmp) / "data",
            cache_dir=Path(tmp) / "cache",
            discover_local_llm=False,
            render=RenderSettings(width=SIZE[0], height=SIZE[1], preset="veryfast"),
        )
        pipeline = Pipeline(settings)
        for i, topic in enumerate(TOPICS):
            video = Path(tmp) / f"{i}.mp4"
            result = pipeline.run(CreateRequest(topic=topic, length=20), video)
            rows.append([frame(video, t) for t in times(result)])
            icons = [v.get("icon") for v in result["visuals_per_sentence"]]
            print(topic, result["visuals"], [i and i["emoji"] for i in icons])
    columns = min(len(row) for row in rows)
    strip = Image.new("RGB", (SIZE[0] * columns, SIZE[1] * len(rows)), (0, 0, 0))
    for r, row in enumerate(rows):
        for c, image in enumerate(row[:columns]):
            strip.paste(image, (c * SIZE[0], r * SIZE[1]))
    out = ROOT / "docs" / "offline_strip.png"
    tmp_out = out.with_suffix(".tmp.png")
    strip.save(tmp_out, optimize=True)
    tmp_out.replace(out)
    print(out)


if __name__ == "__main__":
    main()
