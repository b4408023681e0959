"""Topic in, video out: the stages a task goes through, in order.

    script (0-10 %) -> voice (10-25 %) -> render (25-98 %) -> finishing

The web worker, the CLI and the examples all call ``Pipeline.run``, so they
share the same cache, the same fallbacks and the same errors.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from cache import Cache
from config import Settings
from content_generator import ContentGenerator
from exceptions import ReelsmithError
from speech import SpeechSynthesizer
from tasks import TaskRequest
from video_creator import VideoCreator

Reporter = Callable[[str, float], None]


def _no_report(stage: str, progress: float) -> None:
    pass


class StageFailed(ReelsmithError):
    """An unexpected exception, labelled with the stage it happened in."""


class Pipeline:
    def __init__(self, settings: Settings, cache: Cache | None = None):
        self.settings = settings
        self.cache = cache or Cache(
            settings.cache_dir, default_ttl=settings.cache_ttl, max_size_mb=settings.cache_max_mb
        )
        self.generator = ContentGenerator(settings=settings, cache=self.cache)
        self.synthesizer = SpeechSynthesizer(settings, cache=self.cache)
        self.creator = VideoCreator(settings, synthesizer=self.synthesizer)

    def run(self, request: TaskRequest, output_path: Path, report: Reporter = _no_report) -> dict:
        """Produce ``output_path`` (+ .srt, .jpg). Returns a JSON-able summary."""
        output_path = Path(output_path)
        work_dir = output_path.parent / f".{output_path.stem}.voice"
        stage = "script"
        try:
            report("script", 0.02)
            script = self.generator.generate_script(
                request.topic,
                language=request.language,
                target_seconds=request.length,
                tone=request.tone,
                user_script=request.script,
                fresh=request.fresh,
            )
            stage = "voice"
            report("voice", 0.10)
            work_dir.mkdir(parents=True, exist_ok=True)
            narration = self.synthesizer.narrate(
                script.sentences, work_dir, language=script.language, engine=request.voice
            )
            stage = "render"
            report("render", 0.25)
            uploads = self.settings.data_dir / "uploads"
            video = self.creator.create_video(
                script, output_path, narration, aspect=request.aspect,
                music=uploads / request.music if request.music else None,
                backgrounds=[uploads / name for name in request.backgrounds],
                progress=lambda p: report("render", 0.25 + 0.73 * p),
            )
            stage = "finishing"
            report("finishing", 0.99)
        except ReelsmithError:
            raise
        except Exception as exc:
            raise StageFailed(f"unexpected error: {type(exc).__name__}: {exc}", stage=stage) from exc
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        return {
            "title": script.title,
            "description": script.description,
            "hashtags": script.hashtags,
            "sentences": script.sentences,
            "script_source": script.source,
            "voice_engine": narration.engine,
            "voice_fallback": narration.fallback_reason,
            "language": script.language,
            "duration": round(video.duration, 3),
            "width": video.width,
            "height": video.height,
            "captions": [
                {"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text} for c in video.cues
            ],
        }
