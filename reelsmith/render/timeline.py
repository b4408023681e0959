"""The render's spec: everything a video shows and plays, scene by scene.

A ``Timeline`` is a plain value: its size and frame rate, its scenes (each a
span of the video with its caption cue and its picture), the transitions
between them, the title card, the caption style, the generated look and the
soundtrack. The pipeline builds it once the script, voice and visuals are
done (``Timeline.narrated``); the render draws it (``render.frames``) and
encodes it; the subtitle files and the result's ``captions`` are written
from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelsmith.captions.presets import DEFAULT_PRESET, PRESETS
from reelsmith.captions.style import CaptionStyle
from reelsmith.captions.subtitles import subtitles
from reelsmith.captions.timing import Cue, Word, cues_for
from reelsmith.core.exceptions import RenderError
from reelsmith.core.pauses import TAIL
from reelsmith.core.settings import ASPECTS, RenderSettings
from reelsmith.render.audio import AudioTrack, narration_track
from reelsmith.visuals.icons.drawing import IconShow
from reelsmith.visuals.icons.track import IconPicks, Placed, placed_icons, show_for
from reelsmith.visuals.look import Look, mood_of
from reelsmith.voice.synthesizer import Narration

TITLE_SECONDS = 2.5


def frame_size(render: RenderSettings, aspect: str = "9:16") -> tuple[int, int]:
    """The frame for ``aspect``, keeping the render's short side (1080 -> 1080x1920,
    1920x1080 or 1080x1080). Sizes are even, as yuv420p needs."""
    if aspect not in ASPECTS:
        raise RenderError(f"aspect must be one of {', '.join(ASPECTS)}")
    aw, ah = ASPECTS[aspect]
    short = min(render.width, render.height)
    even = lambda v: int(round(v / 2)) * 2  # noqa: E731
    return (even(short * aw / min(aw, ah)), even(short * ah / min(aw, ah)))


@dataclass(frozen=True)
class Transition:
    """How one scene's picture turns into the next's: a name of
    ``render.transitions.TRANSITIONS``, over ``seconds`` centred on the boundary."""

    kind: str = "cut"
    seconds: float = 0.5


@dataclass(frozen=True)
class TitleCard:
    """The title, shown over the first ``seconds`` of the video."""

    text: str
    seconds: float = TITLE_SECONDS


@dataclass(frozen=True)
class Scene:
    """One sentence: its picture shows from ``start`` to ``end`` (the first
    scene from 0, the last to the end), its caption is ``cue`` (its words'
    times inside). ``media`` is an image or clip; None: the generated look."""

    start: float
    end: float
    cue: Cue
    media: Path | None = None
    icon: Placed | None = None  # the icons look's icon for this sentence


@dataclass(frozen=True)
class Timeline:
    """What one video is. ``transitions[i]`` joins ``scenes[i]`` to
    ``scenes[i + 1]``; scenes in a row with the same media show it as one
    (its zoom or clip runs on), so the transitions between them do nothing."""

    size: tuple[int, int]
    fps: int
    duration: float
    scenes: tuple[Scene, ...]
    transitions: tuple[Transition, ...]
    title: TitleCard
    style: CaptionStyle
    look: Look  # the generated background's
    ken_burns: bool = True  # the pictures move (a slow zoom, the look's motion)
    language: str | None = None
    audio: AudioTrack | None = None  # None: a picture without sound (the preview)
    icons: IconShow | None = None  # the icons look, drawn where a scene has no media

    @property
    def cues(self) -> list[Cue]:
        return [scene.cue for scene in self.scenes]

    @property
    def has_media(self) -> bool:
        return any(scene.media is not None for scene in self.scenes)

    def subtitles(self, fmt: str) -> str:
        """The captions as a subtitle file: "srt", "vtt" or "ass" (``SUBTITLE_FORMATS``)."""
        return subtitles(self.cues, fmt, self.style, self.size)

    def captions(self) -> list[dict]:
        """The captions as the result JSON gives them (times rounded to the millisecond)."""
        return [
            {
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                "text": c.text,
                "words": [
                    {"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                    for w in c.words
                ],
            }
            for c in self.cues
        ]

    @classmethod
    def from_cues(
        cls,
        cues: Sequence[Cue],
        *,
        size: tuple[int, int],
        title: str,
        fps: int = 30,
        duration: float | None = None,
        media: Sequence[Path | None] = (),
        style: CaptionStyle = PRESETS[DEFAULT_PRESET],
        transition: Transition = Transition(),
        ken_burns: bool = True,
        language: str | None = None,
        audio: AudioTrack | None = None,
        icons: IconPicks | None = None,
    ) -> Timeline:
        """A scene per cue; ``media`` is taken in turn, one per scene (repeated
        when shorter). The look follows the title and the mood of the words,
        or with ``icons`` the icons look; ``duration`` defaults to the last
        cue's end plus the tail."""
        if duration is None:
            duration = cues[-1].end + TAIL if cues else 0.0
        starts = [0.0, *(c.start for c in cues[1:])]
        ends = [*starts[1:], duration]
        placed = placed_icons(icons, cues) if icons else [None] * len(cues)
        scenes = tuple(
            Scene(start, end, cue, media[i % len(media)] if media else None, placed[i])
            for i, (start, end, cue) in enumerate(zip(starts, ends, cues))
        )
        return cls(
            size=tuple(size),
            fps=fps,
            duration=duration,
            scenes=scenes,
            transitions=(transition,) * max(0, len(scenes) - 1),
            title=TitleCard(title),
            style=style,
            look=Look.of(title, mood_of(" ".join(c.text for c in cues))),
            ken_burns=ken_burns,
            language=language,
            audio=audio,
            icons=show_for(icons.main, placed, ends) if icons else None,
        )

    @classmethod
    def narrated(
        cls,
        narration: Narration,
        *,
        size: tuple[int, int],
        title: str,
        fps: int = 30,
        language: str | None = None,
        media: Sequence[Path | None] = (),
        style: CaptionStyle = PRESETS[DEFAULT_PRESET],
        transition: Transition = Transition(),
        music: Path | None = None,
        ken_burns: bool = True,
        holds: Sequence[float | None] = (),
        icons: IconPicks | None = None,
    ) -> Timeline:
        """The timeline of a narration: its sentences placed with the pauses
        between them (``render.audio``), each starting on a frame, a scene
        each (at least ``holds[i]`` seconds long), captioned at the voice's
        own word times."""
        audio = narration_track(narration, music, fps=fps, holds=holds)
        return cls.from_cues(
            cues_for(narration, audio.spans),
            duration=audio.samples / audio.rate,  # its tail follows the speed
            size=size,
            title=title,
            fps=fps,
            media=media,
            style=style,
            transition=transition,
            ken_burns=ken_burns,
            language=language,
            audio=audio,
            icons=icons,
        )

    @classmethod
    def from_result(cls, result: dict, style: CaptionStyle) -> Timeline:
        """The timeline a finished task's result describes, as far as its JSON
        tells: its size, title and captions (for its subtitle files)."""
        cues = [
            Cue(
                i + 1,
                c["text"],
                c["start"],
                c["end"],
                [Word(w["text"], w["start"], w["end"]) for w in c.get("words", [])],
            )
            for i, c in enumerate(result.get("captions", []))
        ]
        return cls.from_cues(
            cues,
            size=(result.get("width", 1080), result.get("height", 1920)),
            title=result.get("title", ""),
            duration=result.get("duration"),
            style=style,
        )
