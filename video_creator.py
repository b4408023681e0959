"""Render a narrated, captioned video with moviepy 2.x: orchestration and encoding.

The fast path: instead of a ``CompositeVideoClip`` of many clips (which
builds a float mask for every frame and resizes the background with
Pillow), one ``VideoClip`` computes each frame itself (``FrameMaker``):

* the background moves as a sub-pixel warp (``backgrounds.py``);
* the title card and captions are rasterised once with Pillow and pasted
  into their box only (``captions.py``);
* frames are made in yuv420p, the form x264 encodes (``yuv.py``), and a
  frame identical to the previous one is not rebuilt (``FrameMaker``).

The soundtrack is joined and mastered by ``audio.py``. Outputs are written
under a temporary name and renamed into place when complete, so a crash
never leaves a half-written file with the final name.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import proglog
from PIL import Image

from reelsmith.captions.raster import Layout, Overlay, TextLook, render_text_box
from reelsmith.captions.styles import PRESETS, CaptionStyle
from reelsmith.captions.subtitles import to_srt
from reelsmith.captions.timing import Cue, Word, cues_for
from reelsmith.captions.track import CaptionTrack
from reelsmith.core import yuv
from reelsmith.core.exceptions import ReelsmithError, RenderError
from reelsmith.core.pauses import TAIL
from reelsmith.core.settings import ASPECTS, RenderSettings, Settings
from reelsmith.render.audio import assemble_narration, master_audio
from reelsmith.render.backdrop import MediaBackground, make_scene
from reelsmith.voice.synthesizer import Narration

if TYPE_CHECKING:  # only a type here; importing the script writer costs ~0.1 s per render process
    from reelsmith.script.text import Script

log = logging.getLogger(__name__)

TITLE_SECONDS = 2.5

ProgressCallback = Callable[[float], None]


def frame_size(render: RenderSettings, aspect: str = "9:16") -> tuple[int, int]:
    """The frame for ``aspect``, keeping the render's short side (1080 -> 1080x1920,
    1920x1080 or 1080x1080). Sizes are even, as yuv420p needs."""
    if aspect not in ASPECTS:
        raise RenderError(f"aspect must be one of {', '.join(ASPECTS)}")
    aw, ah = ASPECTS[aspect]
    short = min(render.width, render.height)
    even = lambda v: int(round(v / 2)) * 2  # noqa: E731
    return (even(short * aw / min(aw, ah)), even(short * ah / min(aw, ah)))


@dataclass
class VideoResult:
    video_path: Path
    srt_path: Path
    thumbnail_path: Path
    duration: float
    width: int
    height: int
    voice_engine: str
    cues: list[Cue] = field(default_factory=list)
    word_timing: str = "estimated"  # "engine": the words' times came from the voice
    missing_characters: list[str] = field(default_factory=list)  # no bundled font has them


@dataclass
class RenderJob:
    """Everything one video needs: the script, its narration (the pipeline
    speaks it), where to write, and how it should look."""

    script: Script
    output_path: Path
    narration: Narration
    aspect: str = "9:16"
    music: Path | None = None
    backgrounds: Sequence[Path | None] = ()  # per sentence; None: the generated background
    caption_style: CaptionStyle = PRESETS["classic"]
    transition: str = "cut"  # between sentences: cut | crossfade | slide
    transition_seconds: float = 0.5


class VideoCreator:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        render: RenderSettings | None = None,
        max_workers: int = 2,
        ken_burns: bool = True,
    ):
        self.settings = settings or Settings.from_env()
        self.render = render or self.settings.render
        self.max_workers = max_workers
        self.ken_burns = ken_burns

    # -- public API -------------------------------------------------------
    def create_video(self, job: RenderJob, progress: ProgressCallback | None = None) -> VideoResult:
        """Render ``job`` to ``job.output_path`` (an .mp4); also writes .srt and .jpg.

        ``job.aspect`` is "9:16" (default), "16:9" or "1:1". ``job.music``
        adds a ducked music bed; ``job.backgrounds`` (images and/or clips)
        replace the generated background, one per sentence in turn.
        ``progress`` is called with 0..1 while the frames are encoded; it may
        raise ``TaskCanceled`` to stop the render.
        """
        output_path = Path(job.output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        work_dir = output_path.parent / f".{output_path.stem}.work"
        work_dir.mkdir(exist_ok=True)
        try:
            return self._render(job, output_path, work_dir, progress)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def create_videos_batch(
        self, jobs: Sequence[RenderJob], max_workers: int | None = None
    ) -> list[VideoResult | ReelsmithError]:
        """Render several videos concurrently with a thread pool.

        Returns one entry per job, in order: a ``VideoResult``, or the
        ``ReelsmithError`` that job failed with (one failure never stops the
        others).
        """

        def run(job: RenderJob):
            try:
                return self.create_video(job)
            except ReelsmithError as exc:
                return exc

        with ThreadPoolExecutor(
            max_workers=max_workers or self.max_workers, thread_name_prefix="render"
        ) as pool:
            return list(pool.map(run, jobs))

    # -- rendering --------------------------------------------------------
    def _render(
        self, job: RenderJob, output_path: Path, work_dir: Path, progress: ProgressCallback | None
    ) -> VideoResult:
        from moviepy import VideoClip

        r = self.render
        size = frame_size(r, job.aspect)
        narration = job.narration
        raw_audio, spans = assemble_narration(narration, work_dir / "narration.wav")
        # The loudness passes run in ffmpeg on the other core while the
        # captions are drawn here.
        with ThreadPoolExecutor(1, thread_name_prefix="master") as pool:
            mastering = pool.submit(master_audio, raw_audio, work_dir / "master.wav", job.music)
            cues = cues_for(narration, spans)
            duration = cues[-1].end + TAIL
            frames = FrameMaker(
                size=size,
                duration=duration,
                title=job.script.title,
                cues=cues,
                seed=job.script.title,
                ken_burns=self.ken_burns,
                media=list(job.backgrounds),
                style=job.caption_style,
                transition=job.transition,
                transition_seconds=job.transition_seconds,
                language=job.script.language,
            )
            try:
                audio_path = mastering.result()
            except BaseException:
                frames.close()
                raise

        tmp_video = output_path.with_name(f".{output_path.stem}.partial.mp4")
        srt_path = output_path.with_suffix(".srt")
        thumb_path = output_path.with_suffix(".jpg")
        clip = VideoClip(frame_function=frames.yuv, duration=duration)
        logger = _ProgressLogger(progress) if progress else None
        try:
            try:
                encode_video(clip, size, tmp_video, audio_path, r, logger)
            except ReelsmithError:
                raise
            except Exception as exc:  # a frame that could not be made, ffmpeg missing, ...
                raise RenderError(f"the video could not be rendered: {_first_line(exc)}") from exc
            # Only once the video is complete: subtitles, thumbnail, then the
            # video's final name last, so a canceled or failed render leaves
            # nothing behind under a final name.
            _atomic_write_text(srt_path, to_srt(cues))
            thumb_tmp = thumb_path.with_name(f".{thumb_path.stem}.partial.jpg")
            Image.fromarray(frames(min(1.0, duration / 2))).save(thumb_tmp, quality=88)
            os.replace(thumb_tmp, thumb_path)
            os.replace(tmp_video, output_path)
        finally:
            _unlink(tmp_video)  # gone already when the render succeeded
            clip.close()
            frames.close()
        return VideoResult(
            video_path=output_path,
            srt_path=srt_path,
            thumbnail_path=thumb_path,
            duration=duration,
            width=size[0],
            height=size[1],
            voice_engine=narration.engine,
            cues=cues,
            word_timing=narration.word_timing,
            missing_characters=frames.missing,
        )


# -- encoding -------------------------------------------------------------
PIPE_BUFFER = 1 << 20  # bytes; Linux's default 64 KiB pipe means ~50 wake-ups per frame
# The matrix OpenCV's RGB->I420 uses (BT.601, limited range), written into the file.
BT601_TAGS = [
    "-colorspace",
    "smpte170m",
    "-color_primaries",
    "smpte170m",
    "-color_trc",
    "smpte170m",
    "-color_range",
    "tv",
]


def encode_video(
    clip, size: tuple[int, int], path: Path, audio: Path, r: RenderSettings, logger=None
) -> None:
    """Encode a moviepy ``clip`` of yuv420p frames (``FrameMaker.yuv``) of
    ``size`` and ``audio`` to ``path``.

    moviepy's own writer pipes rgb24 and ffmpeg converts every frame to
    yuv420p (swscale, ~5 CPU-ms a frame at 1080x1920). Here the frames are
    made in yuv420p, the pipe carries half the bytes, and a repeated frame (a
    still background between two words) is the same array, written again
    without any work.
    Frames still come from moviepy's ``iter_frames``, so its progress logger
    (and a cancel raised from it) work as with ``write_videofile``.
    """
    import imageio_ffmpeg

    width, height = size
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{width}x{height}",
        "-r",
        str(r.fps),
        "-i",
        "-",
        "-i",
        str(audio),
        "-c:v",
        r.codec,
        "-preset",
        r.preset,
        "-pix_fmt",
        "yuv420p",
        *BT601_TAGS,
        "-c:a",
        r.audio_codec,
        "-b:a",
        r.audio_bitrate,
        "-movflags",
        "+faststart",
    ]
    if r.threads:
        cmd += ["-threads", str(r.threads)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [*cmd, str(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        try:
            with contextlib.suppress(AttributeError, OSError):  # not Linux: default pipe
                import fcntl

                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BUFFER)
            with _opencv_threads(1):
                for frame in clip.iter_frames(fps=r.fps, logger=logger, dtype="uint8"):
                    proc.stdin.write(frame)
            proc.stdin.close()
            proc.wait()
        except BrokenPipeError:  # ffmpeg stopped early; its log says why
            proc.wait()
        finally:
            if proc.poll() is None:  # canceled or failed in Python: stop ffmpeg too
                proc.kill()
                proc.wait()
        if proc.returncode:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            # The first line is the cause; later ones only repeat that it failed.
            cause = (
                re.sub(r"^\[[^]]*\]\s*", "", lines[0]) if lines else f"exit code {proc.returncode}"
            )
            raise RenderError(f"ffmpeg could not encode the video: {cause}")


# -- frames ---------------------------------------------------------------
class FrameMaker:
    """``frame(t) -> HxWx3 uint8``: the background, the title card for the
    first ``TITLE_SECONDS``, and the captions in their style."""

    def __init__(
        self,
        *,
        size,
        duration,
        title,
        cues,
        seed,
        ken_burns=True,
        media=(),
        style: CaptionStyle = PRESETS["classic"],
        transition="cut",
        transition_seconds=0.5,
        language: str | None = None,
    ):
        self.width, self.height = size
        self.duration = duration
        self.cues = cues
        self.ken_burns = ken_burns
        self.layout = layout = Layout.for_size(*size)
        scale = min(size) / 1080
        self.media = bool(media)
        self.background = make_scene(
            size,
            seed=seed,
            duration=duration,
            ken_burns=ken_burns,
            media=media,
            starts=[c.start for c in cues],
            text=" ".join(c.text for c in cues),
            transition=transition,
            transition_seconds=transition_seconds,
        )
        title_box = render_text_box(
            title,
            style.font,
            width=int(self.width * 0.84),
            font_size=int(84 * scale),
            max_lines=4,
            look=TextLook(box_rgba=(0, 0, 0, 160)),
            language=language,
        )
        self.title = Overlay(
            title_box.image,
            (self.width - title_box.image.width) // 2,
            int(self.height * layout.title_top),
            size,
        )
        self.captions = CaptionTrack(cues, style, size, language)
        # Characters no bundled font has: left out of the picture, reported in the result.
        self.missing = [
            *title_box.missing,
            *(ch for ch in self.captions.missing if ch not in title_box.missing),
        ]
        self._last = {}  # form ("rgb" or "yuv") -> (key, frame)

    def _key(self, t: float):
        moving = self.ken_burns or self.media
        return (self.captions.state(t), t < TITLE_SECONDS, round(t * 1000) if moving else None)

    def __call__(self, t: float) -> np.ndarray:
        """The RGB frame at ``t`` (previews, the thumbnail, checks)."""
        key = self._key(t)
        if self._last.get("rgb", (None,))[0] == key:
            return self._last["rgb"][1]
        frame = self.background.frame_at(t)
        if t < TITLE_SECONDS:
            self.title.apply(frame)
        self.captions.draw(frame, t)
        self._last["rgb"] = (key, frame)
        return frame

    def yuv(self, t: float) -> np.ndarray:
        """The same frame as yuv420p (yuv.py), made in that form from the
        start: what the encoder takes. A frame equal to the previous one is
        the same array."""
        key = self._key(t)
        if self._last.get("yuv", (None,))[0] == key:
            return self._last["yuv"][1]
        frame = self.background.frame_yuv(t)
        planes = yuv.planes(frame, self.width, self.height)
        if t < TITLE_SECONDS:
            self.title.apply_yuv(planes)
        self.captions.draw_yuv(planes, t)
        self._last["yuv"] = (key, frame)
        return frame

    def close(self) -> None:
        if isinstance(self.background, MediaBackground):
            self.background.close()


def render_preview(title: str, sentence: str, style: CaptionStyle, size: tuple[int, int]) -> bytes:
    """One still frame as PNG, drawn by the render's own code: ``sentence``
    captioned in ``style`` over ``title``'s background, its middle word being
    spoken (after the title card, so the caption is what shows)."""
    tokens = sentence.split() or ["Preview"]
    start, step = TITLE_SECONDS + 0.1, 0.3
    words = [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(tokens)]
    cue = Cue(1, " ".join(tokens), start, words[-1].end, words)
    frames = FrameMaker(
        size=size,
        duration=cue.end + TAIL,
        title=title,
        cues=[cue],
        seed=title,
        ken_burns=False,
        style=style,
    )
    middle = words[len(words) // 2]
    buf = io.BytesIO()
    Image.fromarray(frames((middle.start + middle.end) / 2)).save(
        buf, format="PNG", compress_level=1
    )
    frames.close()
    return buf.getvalue()


# -- plumbing -------------------------------------------------------------
@contextlib.contextmanager
def _opencv_threads(n: int):
    """OpenCV on ``n`` threads for a while. While x264 keeps every core busy,
    OpenCV's own thread pool only adds hand-over costs: one thread makes the
    same frames with about 15 % less CPU (`benchmarks/render.py`)."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


class _ProgressLogger(proglog.ProgressBarLogger):
    """Turns moviepy's frame counter into a 0..1 progress callback."""

    def __init__(self, callback: ProgressCallback):
        super().__init__()
        self._callback = callback

    def bars_callback(self, bar, attr, value, old_value=None):
        if bar == "frame_index" and attr == "index":
            total = self.bars[bar].get("total") or 0
            if total:
                self._callback(min(1.0, (value + 1) / total))


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
