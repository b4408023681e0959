"""Topic in, video out: the stages a task goes through, in order.

    script (0-10 %) -> voice (10-20 %) -> visuals (20-25 %) -> render (25-98 %) -> finishing

The web worker, the CLI and the examples all call ``Pipeline.run``, so they
share the same cache, the same fallbacks and the same errors.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from cache import Cache
from content_generator import ContentGenerator
from reelsmith.captions.presets import parse_style
from reelsmith.captions.style import CaptionStyle
from reelsmith.core import disk
from reelsmith.core.exceptions import ReelsmithError, StageFailed
from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files
from reelsmith.music import MusicChoice, choose_music
from reelsmith.render.timeline import Timeline, Transition, frame_size
from reelsmith.request import CreateRequest
from reelsmith.script.templates import TEMPLATE_WORDS
from reelsmith.script.text import Script, script_from_text
from reelsmith.visuals import Context, VisualsResult, choose
from reelsmith.visuals.icons.track import IconPicks
from reelsmith.visuals.scenes import (
    choose_scenes,
    scene_specs,
    storyboard_dir,
    storyboard_scenes,
    write_thumbnails,
)
from reelsmith.voice.casting import narrate_cast
from reelsmith.voice.recorded import recorded_narration
from reelsmith.voice.stt import transcribe
from reelsmith.voice.synthesizer import Narration, SpeechSynthesizer, words_per_second
from video_creator import VideoCreator, VideoResult

Reporter = Callable[[str, float], None]


def _no_report(stage: str, progress: float) -> None:
    pass


class Pipeline:
    def __init__(self, settings: Settings, cache: Cache | None = None):
        self.settings = settings
        self.cache = cache or Cache(
            settings.storage.cache_dir,
            default_ttl=settings.storage.cache_ttl,
            max_size_mb=settings.storage.cache_max_mb,
        )
        self.generator = ContentGenerator(settings=settings, cache=self.cache)
        self.synthesizer = SpeechSynthesizer(settings, cache=self.cache)
        self.creator = VideoCreator(settings)
        self.uploads = Files.uploads_of(settings.storage.data_dir)  # where a task's files are

    def run(
        self,
        request: CreateRequest,
        output_path: Path,
        report: Reporter = _no_report,
        segments_dir: Path | None = None,
    ) -> dict:
        """Produce ``output_path`` (+ .srt, .jpg). Returns a JSON-able summary.

        With ``segments_dir`` (a task's: ``Files.segments_dir`` of its line of
        revisions) the video is rendered scene by scene into it, and a revision
        re-encodes only the scenes that changed (the summary's ``segments``).

        A failure leaves no partial file behind; a full disk (ENOSPC anywhere)
        fails at its stage with "disk full: N MB free in DATA_DIR (...)"."""
        output_path = Path(output_path)
        work_dir = output_path.parent / f".{output_path.stem}.voice"
        started, current = time.time(), ["script"]

        def tracked(stage: str, progress: float) -> None:
            current[0] = stage
            report(stage, progress)

        if request.review:  # stop after the storyboard: its scenes, and their thumbnails
            folder = storyboard_dir(self.settings.storage.data_dir, output_path.stem)
            return {"storyboard": self.storyboard(request, folder)}
        try:
            script, narration = self.prepare(request, work_dir, tracked)
            tracked("visuals", 0.20)
            visuals = self.visuals(
                request, script, lambda share: report("visuals", 0.20 + 0.05 * share)
            )
            with _stage("render"):
                tracked("render", 0.25)
                timeline = self.timeline(request, script, narration, visuals)
                if segments_dir is not None:
                    Path(segments_dir).mkdir(parents=True, exist_ok=True)
                    os.utime(segments_dir)  # rendered now: kept until this task expires
                video = self.creator.render(
                    timeline,
                    output_path,
                    progress=lambda p: report("render", 0.25 + 0.73 * p),
                    segments_dir=segments_dir,
                )
            tracked("finishing", 0.99)
        except BaseException as exc:
            disk.remove_partial_files(output_path, since=started)
            full = disk.disk_full_error(exc, output_path, self.settings.storage, stage=current[0])
            if full is not None:
                raise full from exc
            raise
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        result = summary(script, narration, video, visuals)
        result["scenes"] = scene_specs(request.scenes, script, visuals)  # what revise takes
        if segments_dir is not None:  # a task's: "Edit scenes" shows each scene's picture
            folder = storyboard_dir(self.settings.storage.data_dir, output_path.stem)
            write_thumbnails(visuals, len(script.sentences), script.title, folder, timeline.size)
        result["music"] = self.music_choice(request).to_dict()
        if request.revision_of:
            result["revision_of"] = request.revision_of
        if video.segments is not None:
            result["segments"] = {
                "encoded": video.segments.encoded,
                "reused": video.segments.reused,
            }
        return result

    def prepare(
        self, request: CreateRequest, work_dir: Path, report: Reporter = _no_report
    ) -> tuple[Script, Narration]:
        """The script and voice stages: the script, and its narration in ``work_dir``."""
        transcript = None
        if request.narration and not request.script:  # your recording, its words transcribed
            with _stage("voice"):
                report("voice", 0.02)
                transcript = transcribe(self.uploads / request.narration, self.settings.voice)
                request = request.model_copy(update={"script": transcript.text})
        with _stage("script"):
            report("script", 0.02)
            script = self.script(request)
        with _stage("voice"):
            report("voice", 0.10)
            work_dir.mkdir(parents=True, exist_ok=True)
            if request.narration:  # your recording instead of a voice
                narration = recorded_narration(
                    self.uploads / request.narration,
                    script.sentences,
                    script.language,
                    work_dir,
                    transcript.words if transcript else None,
                )
                return script, narration
            narration = narrate_cast(  # a scene may name its own voice
                self.synthesizer,
                script.sentences,
                [scene["voice"] for scene in request.scenes or ()],
                work_dir,
                language=script.language,
                voice=request.voice,
                speed=request.speed,
            )
        return script, narration

    def script(self, request: CreateRequest) -> Script:
        """The request's script: its scenes' texts (one sentence each), its own
        script, or one written for its topic."""
        if request.scenes:
            texts = [scene["text"] for scene in request.scenes]
            script = script_from_text(
                "\n".join(texts), request.topic, request.language, request.tone
            )
            return replace(script, sentences=texts, search_terms=[], visual_prompts=[])
        # The word budget follows the chosen voice's own pace at the chosen speed.
        pace = (
            None
            if request.script
            else words_per_second(request.voice, request.speed, request.language, self.settings)
        )
        return self.generator.generate_script(
            request.topic,
            language=request.language,
            target_seconds=request.length,
            tone=request.tone,
            user_script=request.script,
            fresh=request.fresh,
            words_per_second=pace,
        )

    def visuals(
        self,
        request: CreateRequest,
        script: Script,
        progress: Callable[[float], None] | None = None,
    ) -> VisualsResult:
        """A picture per sentence (reelsmith.visuals): the user's own backgrounds, else
        the request's source ("auto": the best with a key), falling back source
        by source down to the generated background. ``progress`` gets the share
        of files fetched so far (and may raise TaskCanceled)."""
        uploads = [self.uploads / name for name in request.backgrounds]
        default = request.visuals or self.settings.visuals.source
        if default == "auto":
            default = self.settings.visuals.source
        name = "upload" if uploads and not request.scenes else default
        with _stage("visuals"):
            if request.scenes:  # each scene's own file, URL, search words or prompt
                return choose_scenes(
                    request.scenes,
                    name,
                    Context(
                        topic=request.topic or script.title,
                        aspect=request.aspect,
                        language=script.language,
                    ),
                    self.settings,
                    self.cache,
                    self.uploads,
                    title=script.title,
                    progress=progress,
                    vague_words=TEMPLATE_WORDS,
                )
            ctx = Context(
                topic=request.topic or script.title,
                aspect=request.aspect,
                uploads=uploads,
                language=script.language,
            )
            return choose(
                name,
                script.sentences,
                ctx,
                self.settings,
                self.cache,
                search_terms=script.search_terms,
                prompts=script.visual_prompts,
                title=script.title,
                progress=progress,
                vague_words=TEMPLATE_WORDS,
            )

    def storyboard(self, request: CreateRequest, folder: Path) -> list[dict]:
        """The scenes this request would render, with their chosen visuals and
        a thumbnail of each in ``folder`` (``<i>.jpg``): the script and visuals
        stages only (no voice, no render)."""
        with _stage("script"):
            script = self.script(request)
        visuals = self.visuals(request, script)
        with _stage("visuals"):
            pace = words_per_second(request.voice, request.speed, request.language, self.settings)
            size = frame_size(self.settings.render, request.aspect)
            return storyboard_scenes(request.scenes, script, visuals, pace, folder, size)

    def timeline(
        self, request: CreateRequest, script: Script, narration: Narration, visuals: VisualsResult
    ) -> Timeline:
        """What the render draws: a scene per sentence of the narration, in the
        request's size, caption style and transition, over the visuals."""
        music = self.music(request)
        style = self.caption_style(request)
        render = self.settings.render
        return Timeline.narrated(
            narration,
            size=frame_size(render, request.aspect),
            title=script.title,
            fps=render.fps,
            language=script.language,
            media=visuals.paths if any(visuals.paths) else (),
            style=style,
            transition=Transition(request.transition, request.transition_seconds),
            music=music,
            holds=[scene["seconds"] for scene in request.scenes or ()],
            icons=IconPicks(visuals.main_icon, tuple(visuals.icons))
            if "icons" in visuals.source.split(",")
            else None,
        )

    def caption_style(self, request: CreateRequest) -> CaptionStyle:
        """The request's caption style; an uploaded font replaces the style's own."""
        style = parse_style(request.caption_style)
        if request.font:
            style = replace(style, font=str(self.uploads / request.font))
        return style

    def music(self, request: CreateRequest) -> Path | None:
        """The music bed's file (``music_choice``), or None."""
        return self.music_choice(request).path

    def music_choice(self, request: CreateRequest) -> MusicChoice:
        """The request's music (reelsmith.music): an uploaded file, none, a mood,
        a track, or auto (``MUSIC_PATH`` if set, else a mood from the tone and topic)."""
        return choose_music(
            request.music,
            request.topic,
            request.tone,
            self.uploads,
            self.settings.render.music_path,
        )

    def run_batch(
        self,
        requests: list[CreateRequest],
        out_dir: Path,
        max_workers: int | None = None,
        report: Reporter = _no_report,
    ) -> list[dict | ReelsmithError]:
        """Many videos: scripts, voices and visuals one after another (cheap),
        then the renders, ``max_workers`` at a time (``VideoCreator.render_batch``).
        One entry per request: its summary, or the error it failed with.
        ``report(stage, progress)`` gets the whole batch's progress (0-1): each
        video counts as ``run`` counts it."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        prepared: list = []
        work_dirs = []
        done = [0.0] * len(requests)  # each video's own progress, 0-1
        lock = threading.Lock()

        def video_report(i: int, stage: str, fraction: float) -> None:
            with lock:
                done[i] = fraction
                report(stage, sum(done) / len(done))

        try:
            for i, request in enumerate(requests):
                work_dir = out_dir / f".{i:03d}.voice"
                work_dirs.append(work_dir)
                step = f"{i + 1}/{len(requests)}"  # "script 2/5"
                output_path = out_dir / f"{i + 1:03d}.mp4"

                def prepare_report(stage: str, fraction: float, i=i, step=step) -> None:
                    video_report(i, f"{stage} {step}", fraction)

                try:
                    script, narration = self.prepare(request, work_dir, prepare_report)
                    prepare_report("visuals", 0.20)
                    visuals = self.visuals(request, script)
                    with _stage("render"):
                        timeline = self.timeline(request, script, narration, visuals)
                    prepared.append((i, timeline, output_path, script, narration, visuals))
                except ReelsmithError as exc:
                    prepared.append(
                        disk.disk_full_error(exc, output_path, self.settings.storage) or exc
                    )
                    prepare_report("failed", 1.0)
            ready = [item for item in prepared if not isinstance(item, ReelsmithError)]
            started = time.time()
            rendered = self.creator.render_batch(
                [(timeline, output_path) for _, timeline, output_path, *_ in ready],
                max_workers,
                progress=lambda k, p: video_report(ready[k][0], "render", 0.25 + 0.75 * p),
            )
            videos = iter(rendered)
            results = []
            for item in prepared:
                if isinstance(item, ReelsmithError):
                    results.append(item)
                    continue
                _, _, output_path, script, narration, visuals = item
                video = next(videos)
                if isinstance(video, VideoResult):
                    results.append(summary(script, narration, video, visuals))
                    results[-1]["music"] = self.music_choice(requests[item[0]]).to_dict()
                    continue
                disk.remove_partial_files(output_path, since=started)
                results.append(
                    disk.disk_full_error(video, output_path, self.settings.storage)
                    or (
                        video
                        if isinstance(video, ReelsmithError)
                        else StageFailed(
                            f"unexpected error: {type(video).__name__}: {video}", stage="render"
                        )
                    )
                )
            return results
        finally:
            for work_dir in work_dirs:
                shutil.rmtree(work_dir, ignore_errors=True)


@contextmanager
def _stage(name: str):
    """Label any unexpected exception with the stage it happened in."""
    try:
        yield
    except ReelsmithError:
        raise
    except Exception as exc:
        raise StageFailed(f"unexpected error: {type(exc).__name__}: {exc}", stage=name) from exc


def summary(
    script: Script, narration: Narration, video: VideoResult, visuals: VisualsResult
) -> dict:
    timeline = video.timeline
    for entry, scene in zip(visuals.per_sentence, timeline.scenes):  # the icon's spoken word
        if entry.get("icon"):
            entry["icon"] = scene.icon.icon.as_result() if scene.icon else None
    return {
        "title": script.title,
        "description": script.description,
        "hashtags": script.hashtags,
        "sentences": script.sentences,
        "script_source": script.source,
        "script_note": script.note or None,
        "voice_engine": narration.engine,
        "voice": narration.voice,
        "speed": narration.speed,
        "voice_fallback": narration.fallback_reason,
        "visuals": visuals.source,
        "visuals_note": visuals.note,
        "visuals_per_sentence": visuals.per_sentence,
        "language": script.language,
        "duration": round(timeline.duration, 3),
        "width": timeline.size[0],
        "height": timeline.size[1],
        "word_timing": narration.word_timing,
        "word_timing_note": narration.timing_note,
        "missing_characters": video.missing_characters,
        "captions": timeline.captions(),
    }
