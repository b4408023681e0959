"""The render benchmark's "naive" row: the same video the way peers build it,
a default CompositeVideoClip of a resized(lambda t) ImageClip, TextClips and
a title box."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from render_inputs import TITLE, make_narration


def render_naive(out: Path, size, seconds):
    """What peers do: a default CompositeVideoClip with a resized() Ken-Burns."""
    from moviepy import AudioFileClip, ColorClip, CompositeVideoClip, ImageClip, TextClip

    from reelsmith.captions import fonts
    from reelsmith.render.audio import join_voices
    from reelsmith.render.timeline import TITLE_SECONDS, Timeline
    from reelsmith.visuals.look import make_background

    work = out.parent / "voice"
    work.mkdir(exist_ok=True)
    narration = make_narration(work, seconds)
    timeline = Timeline.narrated(narration, size=size, title=TITLE)
    audio_path = join_voices(timeline.audio, work / "n.wav")
    cues, duration = timeline.cues, timeline.duration
    w, h = size
    font_path = fonts.FAMILIES[fonts.DEFAULT_FAMILY].face().path
    bg = np.asarray(make_background(size, TITLE, margin=0.12))
    bg_clip = (
        ImageClip(bg)
        .with_duration(duration)
        .resized(lambda t: 1 + 0.12 * t / duration)
        .with_position("center")
    )
    layers = [bg_clip]
    box = ColorClip((int(w * 0.84), int(h * 0.14)), color=(0, 0, 0)).with_opacity(0.6)
    layers.append(box.with_duration(TITLE_SECONDS).with_position(("center", int(h * 0.16))))
    layers.append(
        TextClip(
            font=str(font_path),
            text=TITLE,
            font_size=int(84 * w / 1080),
            color="white",
            method="caption",
            size=(int(w * 0.8), None),
        )
        .with_duration(TITLE_SECONDS)
        .with_position(("center", int(h * 0.17)))
    )
    for i, cue in enumerate(cues):
        end = cues[i + 1].start if i + 1 < len(cues) else duration
        layers.append(
            TextClip(
                font=str(font_path),
                text=cue.text,
                font_size=int(64 * w / 1080),
                color="white",
                stroke_color="black",
                stroke_width=4,
                method="caption",
                size=(int(w * 0.78), None),
            )
            .with_start(cue.start)
            .with_end(end)
            .with_position(("center", int(h * 0.55)))
        )
    video = CompositeVideoClip(layers, size=size).with_audio(AudioFileClip(str(audio_path)))
    video.write_videofile(
        str(out), fps=30, codec="libx264", audio_codec="aac", preset="medium", logger=None
    )
