"""How close does our render get to the encoder's own limit?

One run, the same 30 s 1080x1920 30 fps video (title card, 6 captions,
narration, Ken-Burns background), the same x264 settings (preset medium):

1. ours   - VideoCreator, as the app uses it;
2. naive  - the same content the way peers build it: a default
            CompositeVideoClip of a resized(lambda t) ImageClip, TextClips
            and a title box;
3. limit  - the frames of (1) dumped once as raw video (RGB, as moviepy
            makes them), then only the bundled ffmpeg encoding them with
            the same settings and the same mastered audio.

The rows the goals compare (ours, words mode, x264 alone; Ken-Burns; the
crossfade rows and their x264 alone) run three times each, taking turns
with the x264 alone they are compared with, and keep the median. Plus (1)
with word-by-word captions (the `pop` preset, words mode),
(1) over six photos (one per sentence, Ken-Burns) and over six stock-like
clips (5 s of ffmpeg's moving test pattern each), both with 0.5 s
crossfades between sentences (photos and clips are made once, before the
timed runs), a 60 s render of (1) (memory must not grow with length), a
static background variant of (1) with its own limit, and, for each, "x264
alone": the same frames dumped already converted to yuv420p, so ffmpeg
does no colour conversion at all: the encoder and nothing else. The photo
and clip rows have their own x264 alone: their pictures cost x264 more
than the generated background. Every render runs in a fresh subprocess so
memory peaks are its own.

    python benchmarks/render.py           # the full run (~20 minutes on 2 cores)
    python benchmarks/render.py --quick   # 720x1280, 10 s, a quick look

Last line: ratio_vs_encode=… speedup_vs_naive=… python_rss_mb=… rss_growth=… ratio_vs_x264=…
crossfade_vs_x264=… clips_vs_x264=…
(ratio_vs_x264: ours, Ken-Burns, default captions, against its "x264 alone" row;
crossfade_vs_x264: the six photos with crossfades, against x264 alone on those frames;
clips_vs_x264: the same over six stock-like clips)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from render_inputs import TITLE, make_clips, make_narration, make_photos  # noqa: E402
from render_naive import render_naive  # noqa: E402

ROUNDS = 3  # runs of each row a goal compares (ours, words mode, x264 alone); median kept

# kind -> (media, transition) of the renders over per-sentence media
MEDIA_KINDS = {
    "ours-crossfade": ("photos", "crossfade"),
    "ours-photos": ("photos", "cut"),
    "ours-clips": ("clips", "crossfade"),
}


def render_ours(
    out: Path,
    size,
    seconds,
    ken_burns: bool,
    dump: str | None = None,
    style: str = "classic",
    media: str | None = None,
    transition: str = "cut",
):
    """Render (1) with the caption preset ``style`` (over ``media``, "photos" or
    "clips", one per sentence); with ``dump`` ("rgb24" or "yuv420p") write its
    frames and mastered audio next to ``out`` instead, for a limit run."""
    from reelsmith.captions.presets import PRESETS
    from reelsmith.core.settings import RenderSettings, Settings
    from reelsmith.render.timeline import Timeline, Transition
    from video_creator import VideoCreator

    work = out.parent / "voice"
    work.mkdir(exist_ok=True)
    narration = make_narration(work, seconds)
    makers = {"photos": make_photos, "clips": make_clips}
    backgrounds = makers[media](out.parent.parent / media) if media else ()
    timeline = Timeline.narrated(
        narration,
        size=size,
        title=TITLE,
        language="en",
        media=backgrounds,
        style=PRESETS[style],
        transition=Transition(transition),
        ken_burns=ken_burns,
    )
    if dump is None:
        VideoCreator(Settings.build(render=RenderSettings(width=size[0], height=size[1]))).render(
            timeline, out
        )
        return
    from reelsmith.render.audio import join_voices, master_audio
    from reelsmith.render.frames import FrameMaker

    master_audio(join_voices(timeline.audio, work / "n.wav"), out.parent / "audio.wav")
    frames = FrameMaker(timeline)
    make = frames if dump == "rgb24" else frames.yuv  # yuv420p: the very frames the render encodes
    with open(out, "wb") as fh:
        for i in range(int(timeline.duration * 30 + 1e-6)):
            fh.write(make(i / 30))
    frames.close()


def encode_limit(raw: Path, out: Path, size, pix_fmt: str):
    """Only the encoder: raw frames in, the same x264/AAC settings out."""
    import imageio_ffmpeg  # (not video_creator: its imports would count against the limit)

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        "-s",
        f"{size[0]}x{size[1]}",
        "-r",
        "30",
        "-i",
        str(raw),
        "-i",
        str(raw.parent / "audio.wav"),
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-pix_fmt",
        "yuv420p",
        "-colorspace",
        "smpte170m",
        "-color_primaries",
        "smpte170m",
        "-color_trc",
        "smpte170m",
        "-color_range",
        "tv",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        "-threads",
        "4",
        str(out),
    ]
    subprocess.run(cmd, check=True)


# -- measuring --------------------------------------------------------------
def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """(RSS of pid, RSS of pid and all its descendants) in kB, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return rss.get(pid, 0), total


def measure(args: list[str]) -> dict:
    """Run ``render.py --child …`` and time it, sampling memory every 50 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args])
    peak_self = peak_tree = 0
    while proc.poll() is None:
        own, tree = _tree_rss_kb(proc.pid)
        peak_self, peak_tree = max(peak_self, own), max(peak_tree, tree)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return {"wall": wall, "python_mb": peak_self / 1024, "tree_mb": peak_tree / 1024}


def child(argv: list[str]) -> None:
    kind, out, w, h, seconds = argv[0], Path(argv[1]), int(argv[2]), int(argv[3]), float(argv[4])
    size = (w, h)
    if kind in ("ours", "ours-static"):
        render_ours(out, size, seconds, ken_burns=kind == "ours")
    elif kind == "ours-words":
        render_ours(out, size, seconds, ken_burns=True, style="pop")
    elif kind in MEDIA_KINDS:
        media, transition = MEDIA_KINDS[kind]
        render_ours(out, size, seconds, ken_burns=True, media=media, transition=transition)
    elif kind.startswith("dump"):  # dump-<ours|ours-static|a MEDIA_KINDS kind>-<pix_fmt>
        which, _, pix_fmt = kind.split("-", 1)[1].rpartition("-")
        media, transition = MEDIA_KINDS.get(which, (None, "cut"))
        render_ours(
            out,
            size,
            seconds,
            ken_burns=which != "ours-static",
            dump=pix_fmt,
            media=media,
            transition=transition,
        )
    elif kind == "naive":
        render_naive(out, size, seconds)
    elif kind.startswith("limit-"):
        encode_limit(out.with_suffix(".raw"), out, size, pix_fmt=kind.removeprefix("limit-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="720x1280, 10 s")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    w, h, seconds = (720, 1280, 10.0) if args.quick else (1080, 1920, 30.0)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="reelsmith-bench-") as tmp:
        tmp = Path(tmp)

        def run(*group, secs=seconds, rounds=1):
            """Measure each row of ``group``, (name, kind) or (name, kind,
            raw_from), ``rounds`` times, the rows taking turns so a change in
            the machine's load falls on them alike; keep each row's run with
            the median wall time. A limit row encodes frames dumped beforehand
            (not timed)."""
            outs, runs = {}, {}
            for name, kind, *raw_from in group:
                folder = tmp / name
                folder.mkdir()
                outs[name], runs[name] = folder / "video.mp4", []
                if raw_from:
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            raw_from[0],
                            str(outs[name].with_suffix(".raw")),
                            str(w),
                            str(h),
                            str(secs),
                        ],
                        check=True,
                    )
            for _ in range(rounds):
                for name, kind, *_ in group:
                    runs[name].append(measure([kind, str(outs[name]), str(w), str(h), str(secs)]))
            for name, out in outs.items():
                ordered = sorted(runs[name], key=lambda r: r["wall"])
                rows[name] = {
                    **ordered[len(ordered) // 2],
                    "walls": [round(r["wall"], 1) for r in ordered],
                }
                out.with_suffix(".raw").unlink(missing_ok=True)
                print(
                    f"{name:<22} {rows[name]['wall']:7.1f} s   python {rows[name]['python_mb']:6.0f} MB"
                    f"   whole tree {rows[name]['tree_mb']:6.0f} MB   runs {rows[name]['walls']}",
                    flush=True,
                )

        # The rows the goals compare run ROUNDS times each, taking turns with
        # the x264 alone they are compared with (median kept): one run of each
        # moved by up to ±15 % between runs on this machine.
        rounds = 1 if args.quick else ROUNDS
        make_photos(tmp / "photos")
        make_clips(tmp / "clips")
        run(
            ("ours (Ken-Burns)", "ours"),
            ("x264 alone (Ken-Burns)", "limit-yuv420p", "dump-ours-yuv420p"),
            ("ours, words mode (Ken-Burns)", "ours-words"),
            rounds=rounds,
        )
        run(("limit (Ken-Burns)", "limit-rgb24", "dump-ours-rgb24"))
        run(
            ("ours, crossfade (6 photos)", "ours-crossfade"),
            ("x264 alone (6 photos)", "limit-yuv420p", "dump-ours-crossfade-yuv420p"),
            rounds=rounds,
        )
        run(
            ("ours, crossfade (6 clips)", "ours-clips"),
            ("x264 alone (6 clips)", "limit-yuv420p", "dump-ours-clips-yuv420p"),
            rounds=rounds,
        )
        run(("ours (static)", "ours-static"))
        run(("limit (static)", "limit-rgb24", "dump-ours-static-rgb24"))
        run(("x264 alone (static)", "limit-yuv420p", "dump-ours-static-yuv420p"))
        run(("naive (Ken-Burns)", "naive"))
        run((f"ours {2 * seconds:.0f} s (Ken-Burns)", "ours"), secs=2 * seconds)

    ours, limit = rows["ours (Ken-Burns)"], rows["limit (Ken-Burns)"]
    long = rows[f"ours {2 * seconds:.0f} s (Ken-Burns)"]
    static_ratio = rows["ours (static)"]["wall"] / rows["limit (static)"]["wall"]
    print()
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"video {w}x{h}, {seconds:.0f} s, 30 fps, x264 medium"
    )
    print("| render | wall s | vs limit | vs x264 alone | peak MB, Python | peak MB, whole tree |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        kind = next((k for k in ("static", "6 photos", "6 clips") if k in name), "Ken-Burns")
        base, alone = rows.get(f"limit ({kind})"), rows[f"x264 alone ({kind})"]
        vs_limit = f"{row['wall'] / base['wall']:.2f}" if base else "-"
        print(
            f"| {name} | {row['wall']:.1f} | {vs_limit} "
            f"| {row['wall'] / alone['wall']:.2f} | {row['python_mb']:.0f} | {row['tree_mb']:.0f} |"
        )
    print(f"static ratio_vs_encode={static_ratio:.2f}")
    for kind in ("Ken-Burns", "static"):
        print(
            f"{kind} ours / x264 alone="
            f"{rows[f'ours ({kind})']['wall'] / rows[f'x264 alone ({kind})']['wall']:.2f}"
        )
    alone = rows["x264 alone (Ken-Burns)"]["wall"]
    print(
        f"words mode ours / x264 alone={rows['ours, words mode (Ken-Burns)']['wall'] / alone:.2f}"
    )
    crossfade = rows["ours, crossfade (6 photos)"]["wall"] / rows["x264 alone (6 photos)"]["wall"]
    clips = rows["ours, crossfade (6 clips)"]["wall"] / rows["x264 alone (6 clips)"]["wall"]
    print(f"crossfade over clips ours / x264 alone on its frames={clips:.2f}")
    print(
        f"crossfade ours / x264 alone on its frames={crossfade:.2f}, "
        f"/ x264 alone on the generated background's={rows['ours, crossfade (6 photos)']['wall'] / alone:.2f}"
    )
    print(
        json.dumps(
            {
                k: {m: (round(v, 2) if isinstance(v, float) else v) for m, v in r.items()}
                for k, r in rows.items()
            }
        )
    )
    print(
        f"ratio_vs_encode={ours['wall'] / limit['wall']:.2f} "
        f"speedup_vs_naive={rows['naive (Ken-Burns)']['wall'] / ours['wall']:.2f} "
        f"python_rss_mb={long['python_mb']:.0f} "
        f"rss_growth={long['tree_mb'] / ours['tree_mb']:.2f} "
        f"ratio_vs_x264={ours['wall'] / alone:.2f} "
        f"crossfade_vs_x264={crossfade:.2f} clips_vs_x264={clips:.2f}"
    )


if __name__ == "__main__":
    main()
