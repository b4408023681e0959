"""The render stage: a ``Timeline`` in, a narrated, captioned MP4 out
(with its .srt subtitles and a .jpg thumbnail).

The frames are made by ``render.frames`` (in yuv420p, the form x264 takes)
and piped to ffmpeg by ``render.encoder``; the soundtrack is joined and
mastered by ``render.audio`` while the captions are drawn. Outputs are
written under a temporary name and renamed into place when complete, so a
crash never leaves a half-written file with the final name.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from reelsmith.captions.style import CaptionStyle
from reelsmith.captions.timing import Cue, Word
from reelsmith.core.exceptions import ReelsmithError, RenderError
from reelsmith.core.settings import Settings
from reelsmith.render.audio import join_voices, master_audio
from reelsmith.render.encoder import (
    ProgressCallback,
    ProgressLogger,
    atomic_write_text,
    encode_video,
    unlink_quietly,
)
from reelsmith.render.frames import FrameMaker
from reelsmith.render.segments import SegmentReport, render_segments
from reelsmith.render.timeline import TITLE_SECONDS, Timeline

BatchProgress = Callable[[int, float], None]  # (the job's index, its progress 0..1)


@dataclass
class VideoResult:
    video_path: Path
    srt_path: Path
    thumbnail_path: Path
    timeline: Timeline  # what was rendered
    missing_characters: list[str] = field(default_factory=list)  # no bundled font has them
    segments: SegmentReport | None = None  # a segmented render: which scenes were re-encoded


class VideoCreator:
    """Renders timelines with the settings' ``render`` group (codec, preset,
    threads); ``max_workers`` renders at once in a batch."""

    def __init__(self, settings: Settings, *, max_workers: int = 2):
        self.settings = settings
        self.max_workers = max_workers

    def render(
        self,
        timeline: Timeline,
        output_path: Path,
        progress: ProgressCallback | None = None,
        *,
        segments_dir: Path | None = None,
    ) -> VideoResult:
        """Render ``timeline`` to ``output_path`` (an .mp4); also writes .srt and .jpg.

        ``progress`` is called with 0..1 while the frames are encoded; it may
        raise ``TaskCanceled`` to stop the render. With ``segments_dir`` the
        video is made of one segment per scene kept there (``render.segments``):
        a later render of a revised timeline re-encodes only the scenes that
        changed; the result's ``segments`` says which.
        """
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        work_dir = output_path.parent / f".{output_path.stem}.work"
        work_dir.mkdir(exist_ok=True)
        try:
            return self._render(timeline, output_path, work_dir, progress, segments_dir)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def render_batch(
        self,
        jobs: Sequence[tuple[Timeline, Path]],
        max_workers: int | None = None,
        progress: BatchProgress | None = None,
    ) -> list[VideoResult | Exception]:
        """Render several (timeline, output path) jobs, ``max_workers`` at a time.

        Returns one entry per job, in order: a ``VideoResult``, or the
        exception that job failed with (one failure never stops the others).
        ``progress(index, fraction)`` follows each job, and gets 1.0 when it
        ends either way.
        """

        def run(index: int) -> VideoResult | Exception:
            timeline, output_path = jobs[index]
            report = (lambda p: progress(index, p)) if progress else None
            try:
                return self.render(timeline, output_path, report)
            except Exception as exc:
                return exc
            finally:
                if progress:
                    progress(index, 1.0)

        with ThreadPoolExecutor(
            max_workers=max_workers or self.max_workers, thread_name_prefix="render"
        ) as pool:
            return list(pool.map(run, range(len(jobs))))

    def _render(
        self,
        timeline: Timeline,
        output_path: Path,
        work_dir: Path,
        progress: ProgressCallback | None,
        segments_dir: Path | None = None,
    ) -> VideoResult:
        from moviepy import VideoClip

        if timeline.audio is None:
            raise RenderError("a timeline without a soundtrack cannot be rendered to a video")
        raw_audio = join_voices(timeline.audio, work_dir / "narration.wav")
        # The loudness passes run in ffmpeg on the other core while the
        # captions are drawn here.
        with ThreadPoolExecutor(1, thread_name_prefix="master") as pool:
            mastering = pool.submit(
                master_audio, raw_audio, work_dir / "master.wav", timeline.audio.music
            )
            frames = FrameMaker(timeline)
            try:
                audio_path = mastering.result()
            except BaseException:
                frames.close()
                raise

        tmp_video = output_path.with_name(f".{output_path.stem}.partial.mp4")
        srt_path = output_path.with_suffix(".srt")
        thumb_path = output_path.with_suffix(".jpg")
        duration = timeline.duration
        report = None
        clip = VideoClip(frame_function=frames.yuv, duration=duration)
        logger = ProgressLogger(progress) if progress else None
        try:
            try:
                if segments_dir is not None:
                    report = render_segments(
                        timeline,
                        frames.yuv,
                        audio_path,
                        tmp_video,
                        segments_dir,
                        self.settings.render,
                        progress,
                    )
                else:
                    encode_video(
                        clip,
                        tmp_video,
                        audio_path,
                        self.settings.render,
                        size=timeline.size,
                        fps=timeline.fps,
                        logger=logger,
                    )
            except ReelsmithError:
                raise
            except Exception as exc:  # a frame that could not be made, ffmpeg missing, ...
                raise RenderError(f"the video could not be rendered: {_first_line(exc)}") from exc
            # Only once the video is complete: subtitles, thumbnail, then the
            # video's final name last, so a canceled or failed render leaves
            # nothing behind under a final name.
            atomic_write_text(srt_path, timeline.subtitles("srt"))
            thumb_tmp = thumb_path.with_name(f".{thumb_path.stem}.partial.jpg")
            Image.fromarray(frames(min(1.0, duration / 2))).save(thumb_tmp, quality=88)
            os.replace(thumb_tmp, thumb_path)
            os.replace(tmp_video, output_path)
        finally:
            unlink_quietly(tmp_video)  # gone already when the render succeeded
            clip.close()
            frames.close()
        return VideoResult(
            video_path=output_path,
            srt_path=srt_path,
            thumbnail_path=thumb_path,
            timeline=timeline,
            missing_characters=frames.missing,
            segments=report,
        )


def render_preview(title: str, sentence: str, style: CaptionStyle, size: tuple[int, int]) -> bytes:
    """One still frame as PNG, drawn by the render's own code: a one-scene
    timeline of ``sentence`` captioned in ``style`` over ``title``'s look,
    its middle word being spoken (after the title card, so the caption is
    what shows)."""
    tokens = sentence.split() or ["Preview"]
    start, step = TITLE_SECONDS + 0.1, 0.3
    words = [Word(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(tokens)]
    cue = Cue(1, " ".join(tokens), start, words[-1].end, words)
    frames = FrameMaker(
        Timeline.from_cues([cue], size=size, title=title, style=style, ken_burns=False)
    )
    middle = words[len(words) // 2]
    buf = io.BytesIO()
    Image.fromarray(frames((middle.start + middle.end) / 2)).save(
        buf, format="PNG", compress_level=1
    )
    frames.close()
    return buf.getvalue()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
