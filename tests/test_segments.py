"""The render in segments (``render.segments``): real renders, small
(180x320) so they take seconds. The joined video has the single-pass
render's frames, none missing or repeated at a join, and a revision
re-encodes only the scenes whose frames changed."""

import dataclasses
import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from reelsmith.captions.timing import Cue, Word
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.render.segments import frame_bounds, frame_count
from reelsmith.render.timeline import Timeline, Transition
from reelsmith.voice.synthesizer import SpeechSynthesizer
from tests.helpers.media import FFMPEG, probe, stream_duration
from video_creator import VideoCreator

SENTENCES = [
    "Octopuses have three hearts.",
    "Two of them pump blood.",
    "The third feeds the body.",
    "They also have blue blood.",
]
SIZE = (180, 320)
# veryfast uses B-frames, which a join by stream copy must not disturb.
SMALL = RenderSettings(width=180, height=320, preset="veryfast")


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    work = tmp_path_factory.mktemp("voice")
    return SpeechSynthesizer(Settings()).narrate(SENTENCES, work, language="en", voice="piper")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A picture per scene, each a different colour with a gradient (so the
    zoom changes every frame)."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    ramp = np.linspace(0, 255, 320, dtype=np.uint8)[:, None]
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]):
        pixels = np.zeros((320, 180, 3), np.uint8)
        for c in range(3):
            pixels[:, :, c] = (ramp.astype(int) * colour[c] // 255).astype(np.uint8)
        path = folder / f"scene{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def creator():
    return VideoCreator(Settings.build(render=SMALL))


def timeline(narration, **options) -> Timeline:
    return Timeline.narrated(narration, size=SIZE, title="Hearts", language="en", **options)


def with_text(tl: Timeline, index: int, text: str) -> Timeline:
    """``tl`` with scene ``index``'s caption saying ``text`` (same times)."""
    scene = tl.scenes[index]
    old = scene.cue
    tokens = text.split()
    step = (old.end - old.start) / len(tokens)
    words = [
        Word(w, old.start + i * step, old.start + (i + 1) * step) for i, w in enumerate(tokens)
    ]
    cue = Cue(old.index, text, old.start, old.end, words)
    scenes = list(tl.scenes)
    scenes[index] = dataclasses.replace(scene, cue=cue)
    return dataclasses.replace(tl, scenes=tuple(scenes))


def with_transition(tl: Timeline, index: int, transition: Transition) -> Timeline:
    transitions = list(tl.transitions)
    transitions[index] = transition
    return dataclasses.replace(tl, transitions=tuple(transitions))


def decoded(path) -> np.ndarray:
    """Every frame of the video's first stream, as grey pixels."""
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0"]
        + ["-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0]).astype(np.int16)


def frame_times(path) -> list[int]:
    """Each decoded frame's presentation time, in frames (framemd5's time base is 1/fps)."""
    out = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"#tb 0: 1/30\b", out)
    return [int(line.split(",")[2]) for line in out.splitlines() if not line.startswith("#")]


def test_joined_segments_have_the_single_pass_frames(creator, narration, pictures, tmp_path):
    tl = timeline(narration, media=pictures)
    single = creator.render(tl, tmp_path / "single.mp4")
    joined = creator.render(tl, tmp_path / "joined.mp4", segments_dir=tmp_path / "segments")
    assert joined.segments.encoded == [0, 1, 2, 3] and joined.segments.reused == []
    assert len(list((tmp_path / "segments").glob("*.mp4"))) == 4

    total = frame_count(tl)
    info = probe(joined.video_path)
    assert (info.width, info.height, info.fps) == (180, 320, 30.0)
    assert info.video.startswith("h264") and info.audio == "aac (LC)" and info.faststart
    # within a frame (ffmpeg prints the decoded time in whole centiseconds)
    assert stream_duration(joined.video_path, "v") == pytest.approx(tl.duration, abs=1 / 30 + 0.01)
    assert stream_duration(joined.video_path, "a") == pytest.approx(tl.duration, abs=0.05)
    # Every frame once, at its own time: no frame repeated or missing at a join.
    assert frame_times(joined.video_path) == list(range(total))

    a, b = decoded(single.video_path), decoded(joined.video_path)
    assert len(a) == len(b) == total
    for first, _ in frame_bounds(tl)[1:]:  # each join: the picture changes there in both
        for n, other in ((first - 1, first), (first, first - 1)):
            same, across = np.abs(b[n] - a[n]).mean(), np.abs(b[n] - a[other]).mean()
            assert same < 3 < 10 < across, (n, same, across)
    assert np.abs(a - b).mean() < 2  # the same pictures throughout (two encodes of them)


def test_a_revised_scene_text_re_encodes_only_that_scene(creator, narration, tmp_path):
    segments = tmp_path / "segments"
    tl = timeline(narration)
    first = creator.render(tl, tmp_path / "v1.mp4", segments_dir=segments)
    assert first.segments.encoded == [0, 1, 2, 3]

    again = creator.render(tl, tmp_path / "v1b.mp4", segments_dir=segments)
    assert again.segments.encoded == [] and again.segments.reused == [0, 1, 2, 3]

    revised = with_text(tl, 2, "The last heart feeds everything else.")
    second = creator.render(revised, tmp_path / "v2.mp4", segments_dir=segments)
    assert second.segments.encoded == [2]
    assert second.segments.reused == [0, 1, 3]
    assert frame_times(second.video_path) == list(range(frame_count(tl)))
    # The changed scene shows the new caption; the others the same pixels as before.
    old, new = decoded(first.video_path), decoded(second.video_path)
    (a0, a1), (b0, b1) = frame_bounds(tl)[1], frame_bounds(tl)[2]
    assert np.array_equal(old[a0:a1], new[a0:a1])  # reused: the very same encode
    assert np.abs(old[b0:b1] - new[b0:b1]).mean() > 0.5


def test_a_longer_sentence_re_encodes_its_scene_and_moves_the_rest(
    creator, narration, pictures, tmp_path
):
    """Scene 1 says more, so the scenes after it start later: they are reused
    all the same (each starts on a frame; its key is in its own time)."""
    segments = tmp_path / "segments"
    tl = timeline(narration, media=pictures)
    for scene in tl.scenes:  # every scene starts on a frame
        assert scene.start * 30 == pytest.approx(round(scene.start * 30), abs=1e-6)
    first = creator.render(tl, tmp_path / "v1.mp4", segments_dir=segments)

    # The other sentences keep their voice clips (the pipeline's cache does that).
    said = SpeechSynthesizer(Settings()).narrate(
        ["Two of them pump blood through the gills, again and again."],
        tmp_path / "voice",
        language="en",
        voice="piper",
    )
    segments_said = [*narration.segments]
    segments_said[1] = said.segments[0]
    revised = timeline(dataclasses.replace(narration, segments=segments_said), media=pictures)
    assert revised.scenes[2].start > tl.scenes[2].start + 1.0
    second = creator.render(revised, tmp_path / "v2.mp4", segments_dir=segments)
    assert second.segments.encoded == [1]
    assert second.segments.reused == [0, 2, 3]
    assert frame_times(second.video_path) == list(range(frame_count(revised)))

    # Scene 3 is the very same encode, some frames later.
    old, new = decoded(first.video_path), decoded(second.video_path)
    (a0, a1), (b0, b1) = frame_bounds(tl)[3], frame_bounds(revised)[3]
    assert b0 > a0 and np.array_equal(old[a0:a1], new[b0:b1])


def test_a_transition_re_encodes_only_its_two_neighbours(creator, narration, pictures, tmp_path):
    segments = tmp_path / "segments"
    tl = timeline(narration, media=pictures)
    creator.render(tl, tmp_path / "v1.mp4", segments_dir=segments)

    faded = with_transition(tl, 1, Transition("crossfade", 0.5))  # scenes 1 and 2
    second = creator.render(faded, tmp_path / "v2.mp4", segments_dir=segments)
    assert second.segments.encoded == [1, 2]
    assert second.segments.reused == [0, 3]
    assert frame_times(second.video_path) == list(range(frame_count(tl)))

    # A new picture for scene 2 (crossfaded into from scene 1): both re-encoded,
    # scene 3 (a cut from scene 2) is not.
    swapped = list(faded.scenes)
    swapped[2] = dataclasses.replace(swapped[2], media=pictures[0])
    third = creator.render(
        dataclasses.replace(faded, scenes=tuple(swapped)),
        tmp_path / "v3.mp4",
        segments_dir=segments,
    )
    assert third.segments.encoded == [1, 2]
    assert third.segments.reused == [0, 3]


def test_the_key_follows_the_media_content_not_only_its_name(
    creator, narration, pictures, tmp_path
):
    segments = tmp_path / "segments"
    picture = tmp_path / "only.png"
    picture.write_bytes(pictures[0].read_bytes())
    tl = timeline(narration, media=[picture])
    creator.render(tl, tmp_path / "v1.mp4", segments_dir=segments)
    picture.write_bytes(pictures[1].read_bytes())  # the same path, another picture
    second = creator.render(tl, tmp_path / "v2.mp4", segments_dir=segments)
    assert second.segments.encoded == [0, 1, 2, 3]


def test_a_canceled_segmented_render_leaves_no_partial_segment(creator, narration, tmp_path):
    from reelsmith.core.exceptions import TaskCanceled

    segments = tmp_path / "segments"
    seen = []

    def cancel_midway(fraction):
        seen.append(fraction)
        if fraction > 0.5:
            raise TaskCanceled("canceled")

    with pytest.raises(TaskCanceled):
        creator.render(
            timeline(narration), tmp_path / "v.mp4", cancel_midway, segments_dir=segments
        )
    kept = sorted(p.name for p in segments.iterdir())
    assert 0 < len(kept) < 4 and all(re.fullmatch(r"[0-9a-f]{32}\.mp4", n) for n in kept)
    assert not (tmp_path / "v.mp4").exists()
    again = creator.render(timeline(narration), tmp_path / "v.mp4", segments_dir=segments)
    assert again.segments.reused == list(range(len(kept)))
    assert frame_times(again.video_path) == list(range(frame_count(again.timeline)))
