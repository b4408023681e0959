"""Draw the picture of each caption preset for the README (docs/presets/*.png).

Each picture is a frame from ``video_creator.render_preview``, the render's own
code, at 540x960, saved at 270x480.

    .venv/bin/python docs/caption_presets.py
"""

import io
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.captions.presets import PRESETS  # noqa: E402
from video_creator import render_preview  # noqa: E402

TITLE = "How honeybees pick a new home"
SENTENCE = "Scouts dance to vote for the best new hive site"


def main() -> None:
    out = ROOT / "docs" / "presets"
    out.mkdir(parents=True, exist_ok=True)
    for name, style in PRESETS.items():
        png = render_preview(TITLE, SENTENCE, style, (540, 960))
        with Image.open(io.BytesIO(png)) as image:
            image.convert("RGB").resize((270, 480), Image.Resampling.LANCZOS).save(
                out / f"{name}.png", optimize=True
            )
        print(out / f"{name}.png")


if __name__ == "__main__":
    main()
