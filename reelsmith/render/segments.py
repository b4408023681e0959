"""The render in segments: one closed-GOP H.264 file per scene, named by a
hash of everything its frames depend on, joined by stream copy.

A revision of a video (one scene's text changed, a transition changed)
re-encodes only the scenes whose frames changed; the others are taken from
the segments folder as they are. Scene ``i``'s segment holds exactly the
output's frames ``n`` (at ``n / fps``, as the single-pass render makes them)
with ``scene.start <= n / fps < scene.end`` (the first from frame 0, the
last to the video's last frame), so the joined video has the same frames
as the single-pass one, none repeated or missing at a join.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelsmith.core.exceptions import RenderError
from reelsmith.core.settings import RenderSettings
from reelsmith.render.backdrop import Span, span_layout
from reelsmith.render.encoder import (
    pipe_frames,
    raw_yuv_input,
    unlink_quietly,
    x264_video,
)
from reelsmith.render.timeline import Timeline

KEY_VERSION = "segment-v2"  # change when the frames or the encoding change
EPSILON = 1e-6


@dataclass(frozen=True)
class SegmentPlan:
    """Scene ``index``'s frames ``first`` (inclusive) to ``last`` (exclusive),
    stored as ``key``.mp4."""

    index: int
    first: int
    last: int
    key: str

    @property
    def frames(self) -> int:
        return self.last - self.first


@dataclass
class SegmentReport:
    """What a segmented render did, by scene index."""

    encoded: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)  # no frame on the grid: no segment
    keys: list[str] = field(default_factory=list)  # each scene's segment key


def frame_count(timeline: Timeline) -> int:
    """The video's frames, as the single-pass render writes them."""
    return int(timeline.duration * timeline.fps)


def frame_bounds(timeline: Timeline) -> list[tuple[int, int]]:
    """Each scene's frames on the output's grid: [first, last)."""
    total, fps = frame_count(timeline), timeline.fps
    starts = [0]
    for scene in timeline.scenes[1:]:
        n = math.ceil(scene.start * fps - EPSILON)
        starts.append(min(total, max(starts[-1], n)))
    ends = [*starts[1:], total]
    return list(zip(starts, ends))


_MEDIA_HASHES: dict[tuple[str, int, int], str] = {}


def media_fingerprint(path: Path | None) -> str | None:
    """The content hash of a media file (kept while its size and mtime hold)."""
    if path is None:
        return None
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return f"missing:{path}"
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _MEDIA_HASHES:
        digest = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _MEDIA_HASHES[memo] = digest.hexdigest()
    return _MEDIA_HASHES[memo]


def _background_key(timeline: Timeline, spans: list[Span], scene, t0: float, t1: float) -> list:
    """What the picture behind the scene's frames at times t0..t1 (inclusive)
    depends on, in the scene's own time: a photo's span and zoom, a clip, a
    transition's blend. The generated look moves on the video's clock, over
    the whole video, so its key holds the scene's place and the video's length."""
    generated = [repr(timeline.look), timeline.duration, timeline.ken_burns, scene.start]
    if timeline.icons is not None:  # the icons look: a still field, its icons in scene time
        palette, shown = timeline.icons.during(t0, t1)
        icons = [
            (e, _local(s, scene), None if x is None else _local(x, scene)) for e, s, x in shown
        ]
        generated = ["icons", timeline.ken_burns, repr(palette), icons]
    if not timeline.has_media:
        return ["generated", *generated]  # one background for the whole video; no transitions
    parts: list = []
    for k, span in enumerate(spans):
        after = spans[k + 1].half if k + 1 < len(spans) else 0.0
        if span.start - span.half <= t1 and t0 < span.end + after:  # shown (maybe blended)
            media = media_fingerprint(span.media) if span.media is not None else generated
            parts.append(["span", _local(span.start, scene), _local(span.end, scene), media])
        if span.half and span.start - span.half <= t1 and t0 < span.start + span.half:
            parts.append(["blend", _local(span.start, scene), span.kind, span.half])
    return parts


def _local(t: float, scene) -> float:
    """``t`` in the scene's own time, to the microsecond (a key's part)."""
    return round(t - scene.start, 6) + 0.0  # (+ 0.0: never -0.0)


def plan_segments(timeline: Timeline, r: RenderSettings) -> list[SegmentPlan]:
    """Each scene's frames and the key that names its segment: everything the
    frames depend on, in the scene's own time. Scenes start on a frame
    (``Timeline.narrated``), so a scene that only moved (one before it changed
    length) keeps its key, and its segment is reused."""
    fps = timeline.fps
    spans = span_layout(timeline) if timeline.has_media else []
    common = [
        KEY_VERSION,
        list(timeline.size),
        fps,
        r.codec,
        r.preset,
        repr(timeline.style),
        timeline.language,
    ]
    plans = []
    for i, (scene, (first, last)) in enumerate(zip(timeline.scenes, frame_bounds(timeline))):
        t0, t1 = first / fps, (last - 1) / fps
        cue = scene.cue
        words = [(w.text, _local(w.start, scene), _local(w.end, scene)) for w in cue.words]
        parts = [
            *common,
            last - first,
            _local(t0, scene),  # where the first frame falls in the scene
            [cue.text, _local(cue.start, scene), _local(cue.end, scene), words],
            _background_key(timeline, spans, scene, t0, t1),
        ]
        if first < last and t0 < timeline.title.seconds:
            parts.append(["title", timeline.title.text, _local(timeline.title.seconds, scene)])
        key = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        plans.append(SegmentPlan(i, first, last, key))
    return plans


def _x264_cmd(r: RenderSettings, size: tuple[int, int], fps: int) -> list[str]:
    cmd = [
        *raw_yuv_input(size, fps),
        *x264_video(r),
        # Closed GOPs starting with an IDR frame: each segment decodes alone,
        # so segments join by stream copy.
        "-flags",
        "+cgop",
        "-forced-idr",
        "1",
        "-force_key_frames",
        "expr:eq(n,0)",
        "-video_track_timescale",
        str(fps * 1000),
        "-an",
        "-f",
        "mp4",
    ]
    if r.threads:
        cmd += ["-threads", str(r.threads)]
    return cmd


def encode_segment(
    frame_yuv: Callable[[float], object],
    plan: SegmentPlan,
    path: Path,
    r: RenderSettings,
    *,
    size: tuple[int, int],
    fps: int,
    on_frame: Callable[[], None] | None = None,
) -> None:
    """Encode frames ``plan.first``..``plan.last`` (made by ``frame_yuv(t)``)
    to ``path``, written under a temporary name and renamed when complete."""
    # A name of its own: two renders may make the same segment at once.
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.partial.mp4")
    try:
        _encode(frame_yuv, plan, tmp, r, size, fps, on_frame)
        os.replace(tmp, path)
    finally:
        unlink_quietly(tmp)  # gone already when it succeeded


def _encode(frame_yuv, plan: SegmentPlan, tmp: Path, r, size, fps, on_frame) -> None:
    def frames():
        for n in range(plan.first, plan.last):
            yield frame_yuv(n / fps)
            if on_frame:
                on_frame()

    pipe_frames([*_x264_cmd(r, size, fps), str(tmp)], frames(), "a segment")


def join_segments(
    segments: Sequence[Path], audio: Path, out: Path, r: RenderSettings, fps: int
) -> None:
    """Join ``segments`` by stream copy (ffmpeg's concat demuxer) and add
    ``audio``, encoded once, as the single-pass render does."""
    import imageio_ffmpeg

    listing = out.with_name(f".{out.stem}.segments.txt")
    lines = []
    for seg in segments:
        quoted = str(Path(seg).resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        "-i",
        str(audio),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "copy",
        "-c:a",
        r.audio_codec,
        "-b:a",
        r.audio_bitrate,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        unlink_quietly(listing)
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        raise RenderError(
            f"ffmpeg could not join the segments: {lines[0] if lines else done.returncode}"
        )


def render_segments(
    timeline: Timeline,
    frame_yuv: Callable[[float], object],
    audio: Path,
    out: Path,
    segments_dir: Path,
    r: RenderSettings,
    progress: Callable[[float], None] | None = None,
) -> SegmentReport:
    """Render ``timeline`` to ``out`` through per-scene segments kept in
    ``segments_dir``: a segment whose key is there already is reused."""
    segments_dir = Path(segments_dir)
    segments_dir.mkdir(parents=True, exist_ok=True)
    plans = plan_segments(timeline, r)
    report = SegmentReport(keys=[p.key for p in plans])
    todo = [p for p in plans if p.frames and not (segments_dir / f"{p.key}.mp4").exists()]
    total = max(1, sum(p.frames for p in todo))
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(min(1.0, done / total))

    for plan in plans:
        path = segments_dir / f"{plan.key}.mp4"
        if not plan.frames:
            report.empty.append(plan.index)
        elif plan in todo:
            encode_segment(
                frame_yuv, plan, path, r, size=timeline.size, fps=timeline.fps, on_frame=tick
            )
            report.encoded.append(plan.index)
        else:
            report.reused.append(plan.index)
    used = [segments_dir / f"{p.key}.mp4" for p in plans if p.frames]
    if not used:
        raise RenderError("a timeline without frames cannot be rendered to a video")
    join_segments(used, audio, out, r, timeline.fps)
    if progress:
        progress(1.0)
    return report
