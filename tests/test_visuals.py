"""The visuals options checked (source and transition), generated looks, and
transitions between pictures, rendered."""

import math
import subprocess

import numpy as np
import pytest
from PIL import Image

from reelsmith.core.exceptions import BadRequest, UnknownVisuals
from reelsmith.core.settings import Settings
from reelsmith.render.transitions import TRANSITIONS
from reelsmith.request import CreateRequest
from reelsmith.visuals import check_visuals


# -- choice -------------------------------------------------------------------------
def test_check_visuals_names_the_field():
    s = Settings.build(pexels_api_key="k")
    assert check_visuals("auto", Settings()) == "auto"
    assert check_visuals("generated", Settings()) == "generated"
    assert check_visuals("pexels", s) == "pexels"
    assert check_visuals("ai", Settings.build(images_base_url="http://127.0.0.1:9/v1")) == "ai"
    with pytest.raises(
        UnknownVisuals, match="one of upload, pexels, pixabay, ai, icons, generated"
    ) as err:
        check_visuals("giphy", s)
    assert err.value.field == "visuals"
    with pytest.raises(UnknownVisuals, match="no PIXABAY_API_KEY") as err:
        check_visuals("pixabay", s)
    assert err.value.field == "visuals"
    with pytest.raises(UnknownVisuals, match="no IMAGES_API_KEY or IMAGES_BASE_URL"):
        check_visuals("ai", s)


@pytest.mark.parametrize(
    "name, seconds, field",
    [
        ("wipe", 0.5, "transition"),
        ("crossfade", 0, "transition_seconds"),
        ("slide", 9, "transition_seconds"),
        ("crossfade", "soon", "transition_seconds"),
        ("crossfade", float("nan"), "transition_seconds"),
    ],
)
def test_a_bad_transition_is_refused_naming_the_field(name, seconds, field):
    data = {"topic": "tea", "transition": name, "transition_seconds": seconds}
    with pytest.raises(BadRequest) as err:
        CreateRequest.parse(data, Settings())
    assert err.value.field == field


def test_transitions_are_taken_from_the_registry():
    data = {"topic": "tea", "transition": "crossfade", "transition_seconds": "0.75"}
    parsed = CreateRequest.parse(data, Settings())
    assert (parsed.transition, parsed.transition_seconds) == ("crossfade", 0.75)
    assert set(TRANSITIONS) >= {"cut", "crossfade", "slide"}


# -- generated looks -----------------------------------------------------------------
def _frames(seed, mood="neutral", size=(180, 320), times=(0.0, 3.0)):
    from reelsmith.visuals.look import Look
    from reelsmith.visuals.motion import Background

    bg = Background(size, Look.of(seed, mood), duration=10.0, ken_burns=True)
    return bg, [bg.frame_at(t).astype(int) for t in times]


def _hue_histogram(frame):
    import cv2

    hsv = cv2.cvtColor(frame.astype(np.uint8), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0], None, [18], [0, 180]).ravel()
    return hist / hist.sum()


def test_two_topics_look_different_and_one_topic_always_the_same():
    a, (a0, _) = _frames("Why octopuses have three hearts")
    b, (b0, _) = _frames("How honey bees make honey")
    assert np.abs(a0 - b0).mean() > 20  # far apart pixel by pixel
    overlap = np.minimum(_hue_histogram(a0), _hue_histogram(b0)).sum()
    assert overlap < 0.5  # and in their colours
    _, (again, _) = _frames("Why octopuses have three hearts")
    assert np.array_equal(a0, again)  # stable: a hash, not chance


def test_every_motion_family_moves_and_mood_changes_the_look():
    from reelsmith.visuals.look import FAMILIES, Look

    seen = {}
    for i in range(200):
        seen.setdefault(Look.of(f"topic {i}").family, f"topic {i}")
    assert set(seen) == set(FAMILIES) == {"gradients", "particles", "shapes", "light"}
    for family, seed in seen.items():
        bg, (f0, f1) = _frames(seed)
        assert bg.look.family == family
        assert np.abs(f0 - f1).mean() > 1.0, family  # it moves
    _, (calm, _) = _frames("rain", mood="calm")
    _, (dark, _) = _frames("rain", mood="dark")
    assert calm.mean() > dark.mean() + 10  # a dark mood is darker


def test_gradients_look_moves_as_one_pan_the_encoder_can_predict():
    """The gradients family's frames are the previous frame shifted (a pan
    across its two-palette canvas), not a fade over the whole frame, which
    x264 cannot predict (benchmarks/looks.py: 9.2 s against 6.2 s)."""
    import cv2

    from reelsmith.visuals.look import Look
    from reelsmith.visuals.motion import Background

    seed = next(f"topic {i}" for i in range(200) if Look.of(f"topic {i}").family == "gradients")
    bg = Background((216, 384), Look.of(seed), duration=30.0, ken_burns=True)
    a, b = (cv2.cvtColor(bg.frame_at(t), cv2.COLOR_RGB2GRAY).astype(np.float32) for t in (5.0, 5.5))
    (dx, dy), _ = cv2.phaseCorrelate(a, b)
    assert math.hypot(dx, dy) > 0.5  # it moves
    back = cv2.warpAffine(
        b, np.float32([[1, 0, -dx], [0, 1, -dy]]), (216, 384), borderMode=cv2.BORDER_REPLICATE
    )
    inner = (slice(20, -20), slice(20, -20))
    assert np.abs(back - a)[inner].mean() < 0.25 * np.abs(b - a)[inner].mean()  # by a shift


def test_mood_of_the_script():
    from reelsmith.visuals.look import mood_of

    assert mood_of("The storm came at night, dark and full of fear.") == "dark"
    assert mood_of("Breathe slow, the rain is quiet.") == "calm"
    assert mood_of("Tax forms are due in April.") == "neutral"


# -- transitions ---------------------------------------------------------------------------
RED, BLUE = (220, 30, 30), (30, 60, 220)


def _two_images(tmp_path):
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (300, 500), RED).save(red)
    Image.new("RGB", (300, 500), BLUE).save(blue)
    return red, blue


def test_crossfade_frame_on_the_boundary_is_a_blend_of_both(tmp_path):
    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    red, blue = _two_images(tmp_path)
    bg = MediaBackground(
        scenes_at(
            [0.4, 2.0],
            4.0,
            size=(90, 160),
            media=[red, blue],
            transition="crossfade",
            transition_seconds=0.6,
        )
    )
    mean = lambda t: bg.frame_at(t).reshape(-1, 3).mean(axis=0)  # noqa: E731
    assert np.allclose(mean(1.65), RED, atol=2)  # before the window: red only
    assert np.allclose(mean(2.0), np.add(RED, BLUE) / 2, atol=2)  # the boundary: half and half
    quarter = mean(1.85)  # a quarter of the way in
    assert np.allclose(quarter, 0.75 * np.array(RED) + 0.25 * np.array(BLUE), atol=3)
    assert np.allclose(mean(2.35), BLUE, atol=2)  # after the window: blue only


def test_slide_pushes_the_next_picture_in(tmp_path):
    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    red, blue = _two_images(tmp_path)
    bg = MediaBackground(
        scenes_at(
            [0.4, 2.0],
            4.0,
            size=(90, 160),
            media=[red, blue],
            transition="slide",
            transition_seconds=0.6,
        )
    )
    frame = bg.frame_at(2.0)  # half-way: half of each
    assert np.allclose(frame[:, :40].reshape(-1, 3).mean(axis=0), RED, atol=2)
    assert np.allclose(frame[:, 50:].reshape(-1, 3).mean(axis=0), BLUE, atol=2)
    assert np.allclose(bg.frame_at(1.65).reshape(-1, 3).mean(axis=0), RED, atol=2)


def test_generated_background_stands_in_for_a_sentence_without_media(tmp_path):
    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    red, _ = _two_images(tmp_path)
    bg = MediaBackground(
        scenes_at([0.4, 2.0], 4.0, size=(90, 160), media=[red, None], title="octopus")
    )
    assert np.allclose(bg.frame_at(1.0).reshape(-1, 3).mean(axis=0), RED, atol=2)
    assert not np.allclose(bg.frame_at(3.0).reshape(-1, 3).mean(axis=0), RED, atol=20)


def _pcm(path) -> bytes:
    from tests.helpers.media import FFMPEG

    return subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout


def test_transitions_never_move_captions_or_audio(tmp_path):
    """The same job rendered with a cut and with a crossfade: identical cues,
    subtitles and audio; at the boundary the crossfade shows both pictures."""
    from reelsmith.core.settings import RenderSettings
    from reelsmith.render.timeline import Timeline, Transition
    from reelsmith.voice.synthesizer import SpeechSynthesizer
    from tests.helpers.media import corner_colour
    from video_creator import VideoCreator

    sentences = ["Red comes first.", "Blue comes next."]
    narration = SpeechSynthesizer(Settings()).narrate(
        sentences, tmp_path / "voice", language="en", voice="espeak"
    )
    red, blue = _two_images(tmp_path)
    creator = VideoCreator(
        Settings.build(render=RenderSettings(width=180, height=320, preset="ultrafast"))
    )
    results = {}
    for transition in ("cut", "crossfade"):
        timeline = Timeline.narrated(
            narration,
            size=(180, 320),
            title="Colours",
            media=[red, blue],
            transition=Transition(transition, 0.8),
        )
        results[transition] = creator.render(timeline, tmp_path / f"{transition}.mp4")
    cut, fade = results["cut"], results["crossfade"]
    assert [(c.start, c.end, c.text) for c in cut.timeline.cues] == [
        (c.start, c.end, c.text) for c in fade.timeline.cues
    ]
    assert cut.srt_path.read_text() == fade.srt_path.read_text()
    assert _pcm(cut.video_path) == _pcm(fade.video_path)
    boundary = cut.timeline.cues[1].start
    r, _, b = corner_colour(fade.video_path, boundary)
    assert 80 < r < 170 and 80 < b < 170  # a blend of red and blue
    r, _, b = corner_colour(cut.video_path, boundary + 0.05)
    assert b > 180 and r < 60  # the cut: blue at once
