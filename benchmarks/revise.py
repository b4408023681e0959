"""What a revision costs: a 60 s, 10-scene video over photos with crossfades,
rendered once in a single pass and once in segments (``render.segments``),
then re-rendered with one scene's caption changed, reusing the others.

    python benchmarks/revise.py           # 720x1280, 60 s, 10 scenes
    python benchmarks/revise.py --quick   # 360x640, 20 s, 10 scenes
    python benchmarks/revise.py --full    # 1080x1920, 60 s, 10 scenes

The last line is ``revise_ratio=<x> segment_overhead=<y> join_frames_ok=<1|0>``:
revise_ratio is the revision's wall time over the single-pass render's,
segment_overhead the first segmented render's over the single-pass one's,
join_frames_ok whether the revised video has every frame once, at its time.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from render_inputs import make_narration  # noqa: E402  (the render benchmark's synthetic voice)

SENTENCES = [f"This is sentence number {i + 1} of the revision benchmark." for i in range(10)]


def revised(timeline, index: int, text: str):
    """``timeline`` with scene ``index``'s caption saying ``text`` (same times)."""
    from reelsmith.captions.timing import Cue, Word

    scene = timeline.scenes[index]
    old = scene.cue
    tokens = text.split()
    step = (old.end - old.start) / len(tokens)
    words = [
        Word(w, old.start + i * step, old.start + (i + 1) * step) for i, w in enumerate(tokens)
    ]
    scenes = list(timeline.scenes)
    scenes[index] = dataclasses.replace(scene, cue=Cue(old.index, text, old.start, old.end, words))
    return dataclasses.replace(timeline, scenes=tuple(scenes))


def frames_ok(path: Path, expected: int, fps: int) -> bool:
    """Every frame once, at its own time (framemd5's time base is 1/fps)."""
    import imageio_ffmpeg

    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)]
        + ["-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
    ).stdout
    if f"#tb 0: 1/{fps}\n" not in out:
        return False
    times = [int(line.split(",")[2]) for line in out.splitlines() if not line.startswith("#")]
    return times == list(range(expected))


def main() -> None:
    from benchmarks.render_inputs import make_photos
    from reelsmith.core.settings import RenderSettings, Settings
    from reelsmith.render.segments import frame_count
    from reelsmith.render.timeline import Timeline, Transition
    from video_creator import VideoCreator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="360x640, 20 s")
    parser.add_argument("--full", action="store_true", help="1080x1920, 60 s")
    args = parser.parse_args()
    w, h, seconds = (
        (360, 640, 20.0) if args.quick else (1080, 1920, 60.0) if args.full else (720, 1280, 60.0)
    )
    creator = VideoCreator(Settings.build(render=RenderSettings(width=w, height=h)))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = make_photos(work / "photos")
        timeline = Timeline.narrated(
            make_narration(work, seconds, SENTENCES),
            size=(w, h),
            title="The revision benchmark",
            language="en",
            media=photos,
            transition=Transition("crossfade", 0.5),
        )

        def timed(tl, name, **kw):
            start = time.perf_counter()
            result = creator.render(tl, work / f"{name}.mp4", **kw)
            return time.perf_counter() - start, result

        single, _ = timed(timeline, "single")
        first, _ = timed(timeline, "first", segments_dir=work / "segments")
        change = revised(timeline, 4, "This sentence was rewritten by the revision.")
        revise, result = timed(change, "revised", segments_dir=work / "segments")
        ok = frames_ok(result.video_path, frame_count(timeline), timeline.fps) and (
            result.segments.encoded == [4]
        )
        print(
            f"{w}x{h}, {seconds:.0f} s, {len(timeline.scenes)} scenes, preset {creator.settings.render.preset}"
        )
        print(f"single pass {single:.2f} s; segmented first render {first:.2f} s;")
        print(
            f"revision (scene 5's caption) {revise:.2f} s: re-encoded {result.segments.encoded},"
            f" reused {len(result.segments.reused)}"
        )
        print(
            f"revise_ratio={revise / single:.3f} segment_overhead={first / single:.3f}"
            f" join_frames_ok={int(ok)}"
        )


if __name__ == "__main__":
    main()
