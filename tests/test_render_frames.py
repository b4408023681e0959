"""The frames a render is made of: clips decoded by ffmpeg, photos zoomed,
transitions between scenes, a timeline's scenes, and YUV frames against RGB ones."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelsmith.core.pauses import TAIL
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline, Transition


def test_clip_frames_come_from_ffmpeg_scaled_cropped_and_in_order(tmp_path):
    """A clip is decoded by ffmpeg straight into covered yuv420p frames: the
    same pictures as moviepy's frame covered in Python, looping at its end,
    held on its first frame before its span starts, and going back restarts."""
    from moviepy import VideoFileClip

    from reelsmith.core.exceptions import RenderError
    from reelsmith.visuals.media import CLIP_FPS, ClipSource, cover
    from tests.helpers.media import make_clip

    path = make_clip(tmp_path / "wide.mp4", seconds=1.0, size="320x180")  # landscape into portrait
    source, reference = ClipSource(path, (108, 192)), VideoFileClip(str(path), audio=False)
    try:
        assert source.count == CLIP_FPS
        for local_t in (0.0, 0.5, 0.97, 1.4, 0.1, -0.3):
            got = source.frame(local_t, 2.0).astype(int)
            index = max(0, int(local_t * CLIP_FPS + 1e-6)) % CLIP_FPS
            expected = cover(reference.get_frame(index / CLIP_FPS), (108, 192)).astype(int)
            assert got.shape == (192, 108, 3)
            assert np.abs(got - expected).mean() < 6, local_t  # the same picture
            other = cover(reference.get_frame((index + 7) % CLIP_FPS / CLIP_FPS), (108, 192))
            assert np.abs(got - other.astype(int)).mean() > 2 * np.abs(got - expected).mean()
        # A clip shorter than it says: the frames it has are learnt, and it loops there.
        source.count = 10 * CLIP_FPS
        assert np.array_equal(source.frame_yuv(1.5, 2.0), source.frame_yuv(0.5, 2.0))
        assert source.count == CLIP_FPS
        proc = source._proc
        source.close()
        assert proc.poll() is not None  # ffmpeg is gone
    finally:
        source.close()
        reference.close()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(RenderError, match="notes.mp4: not a video clip"):
        ClipSource(text, (108, 192))


def test_only_the_clips_near_the_frame_keep_a_decoder(tmp_path):
    """One ffmpeg per clip would be alive till the end of a render (about 90 MB
    each): a clip's decoder stops as soon as the frame no longer shows it."""
    from reelsmith.render.backdrop import MediaBackground
    from reelsmith.visuals.media import ClipSource
    from tests.helpers.media import make_clip
    from tests.helpers.timelines import scenes_at

    clips = [make_clip(tmp_path / f"c{i}.mp4", seconds=1.0, size="64x64") for i in range(4)]
    timeline = scenes_at(
        [0.0, 1.0, 2.0, 3.0],
        4.0,
        size=(64, 64),
        media=clips,
        transition="crossfade",
        transition_seconds=0.4,
    )
    scene = MediaBackground(timeline)
    try:
        alive = []
        for k in range(40):
            scene.frame_yuv(k / 10)
            alive.append(
                sum(s._proc is not None for s in scene.sources if isinstance(s, ClipSource))
            )
        assert max(alive) == 2  # two during a crossfade (0.2 s each side of a boundary)
        assert alive[15] == 1  # one mid-sentence (t = 1.5 s)
    finally:
        scene.close()
    assert all(s._proc is None for s in scene.sources)


def test_one_image_zooms_on_across_sentences_without_a_jump(tmp_path):
    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(1)  # detailed, so any jump in the zoom shows
    Image.fromarray(rng.integers(0, 255, (480, 270, 3), dtype=np.uint8)).resize((540, 960)).save(
        photo
    )
    background = MediaBackground(scenes_at([0.4, 2.3, 4.3], 6.8, size=(270, 480), media=[photo]))
    assert [(start, end) for start, end, _ in background.spans] == [(0.0, 6.8)]

    def change(t0, t1):
        return np.abs(background.frame_at(t0).astype(int) - background.frame_at(t1)).mean()

    step = change(1.0, 1.0 + 1 / 30)  # one frame's zoom inside a sentence
    assert change(2.3 - 1 / 30, 2.3) < 2 * step  # the same across a sentence change
    assert change(0.0, 6.8) > 10 * step  # while it does zoom over the video


@pytest.mark.parametrize("size", [(108, 192), (110, 110), (96, 54)])
@pytest.mark.parametrize("a", [1.0, 1.0004, 1.03, 1.0777, 1.12])
def test_zoom_by_quadrant_resizes_gives_the_pixels_of_the_exact_warp(size, a):
    """Quadrants.zoom (four flipped resizes) against warpAffine with the same sub-pixel
    affine, for grey and RGB, at scales from 1:1 to the widest view (and one
    so near 1:1 that resize alone would copy)."""
    import cv2

    from reelsmith.visuals.media import Quadrants

    w, h = size
    sw, sh = 4 * int(np.ceil((w * 1.12 + 12) / 4)), 4 * int(np.ceil((h * 1.12 + 12) / 4))
    rng = np.random.default_rng(2)
    for shape in ((sh, sw), (sh, sw, 3)):
        src = cv2.GaussianBlur(rng.integers(0, 255, shape, dtype=np.uint8), (0, 0), 1.0)
        (cx, cy), (qx, qy) = (sw // 2, sh // 2), (w // 4 * 2, h // 4 * 2)
        got = np.empty((h, w, *shape[2:]), np.uint8)
        Quadrants(src, (cx, cy)).zoom(a, got, (qx, qy))
        m = np.array([[a, 0.0, cx - (qx - 0.5) * a - 0.5], [0.0, a, cy - (qy - 0.5) * a - 0.5]])
        expected = cv2.warpAffine(
            src,
            m,
            (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        assert np.abs(got.astype(int) - expected).max() <= 1  # fixed-point rounding only


def test_a_timeline_has_a_scene_per_cue_from_zero_to_the_end():
    from reelsmith.captions.timing import Cue

    cues = [Cue(1, "One.", 0.4, 1.5), Cue(2, "Two.", 1.8, 3.0), Cue(3, "Three.", 3.3, 4.0)]
    a, b = Path("a.png"), Path("b.mp4")
    made = Timeline.from_cues(
        cues, size=(90, 160), title="t", media=[a, b], transition=Transition("slide", 0.3)
    )
    assert made.duration == pytest.approx(4.0 + TAIL)
    assert [(s.start, s.end, s.media) for s in made.scenes] == [
        (0.0, 1.8, a),
        (1.8, 3.3, b),
        (3.3, made.duration, a),  # the media is taken in turn
    ]
    assert made.cues == cues and made.transitions == (Transition("slide", 0.3),) * 2
    assert Timeline.from_cues(cues, size=(90, 160), title="t").has_media is False


def test_each_boundary_has_its_own_transition(tmp_path):
    """Scenes red, blue, red: a crossfade into the second, a cut into the third."""
    from dataclasses import replace

    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (100, 160), (220, 30, 30)).save(red)
    Image.new("RGB", (100, 160), (30, 60, 220)).save(blue)
    timeline = scenes_at([0.0, 2.0, 4.0], 6.0, size=(90, 160), media=[red, blue])
    timeline = replace(timeline, transitions=(Transition("crossfade", 0.6), Transition("cut")))
    background = MediaBackground(timeline)
    try:
        red_share = lambda t: background.frame_at(t)[..., 0].mean() / 220  # noqa: E731
        assert red_share(2.0) == pytest.approx(0.5 + 0.5 * 30 / 220, abs=0.03)  # half and half
        assert red_share(3.99) == pytest.approx(30 / 220, abs=0.02)  # blue to the end
        assert red_share(4.0) == pytest.approx(1.0, abs=0.02)  # then red at once
    finally:
        background.close()


def test_transitions_blend_planes_as_they_blend_rgb_frames(tmp_path):
    """Transitions between photos blend the I420 planes (what the render
    encodes) into the picture they make of RGB frames (previews)."""
    from reelsmith.core import yuv
    from reelsmith.render.backdrop import MediaBackground
    from tests.helpers.timelines import scenes_at

    size = (216, 384)
    yy, xx = np.mgrid[0:400, 0:240].astype(np.float32)
    paths = []
    for i in range(2):  # colour waves a few pixels across, like detail in a photo
        field = 120 + 60 * np.sin(
            xx[..., None] / (5 + 2 * i) + yy[..., None] / 7 + np.arange(3) * 2.1
        )
        paths.append(tmp_path / f"p{i}.png")
        Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).save(paths[i])
    for transition in ("crossfade", "slide"):
        scene = MediaBackground(
            scenes_at(
                [0.0, 3.0],
                6.0,
                size=size,
                media=paths,
                transition=transition,
                transition_seconds=1.0,
            )
        )
        for t in (0.0, 1.7, 2.75, 3.0, 3.3, 6.0):
            got = scene.frame_yuv(t).astype(int)
            expected = yuv.frame_to_yuv(scene.frame_at(t)).astype(int)
            assert got.shape == expected.shape
            assert np.abs(got - expected).mean() < 0.6, (transition, t)
            # at most the slide's edge column lands one pixel apart in a plane
            assert np.mean(np.abs(got - expected) > 3) < 0.01, (transition, t)


@pytest.mark.parametrize("preset", ["classic", "pop", "karaoke"])
def test_yuv_frames_are_the_rgb_frames(preset):
    """The encoder gets frames made in yuv420p (the generated background
    upscaled plane by plane, the overlays blended in YUV): the same pictures,
    to within rounding, as the RGB frames converted, in every mode (karaoke's
    part-filled words and right-to-left included) and with the title card."""
    from reelsmith.captions.presets import PRESETS
    from reelsmith.captions.timing import Cue
    from reelsmith.core import yuv

    cues = [Cue(1, "Octopuses have three hearts", 0.5, 2.0), Cue(2, "مرحبا بكم في عالم", 2.3, 4.0)]
    frames = FrameMaker(
        Timeline.from_cues(
            cues, size=(270, 480), duration=5, title="Octopus facts 🐙", style=PRESETS[preset]
        )
    )
    for t in (0.2, 0.9, 1.4, 2.5, 3.1, 3.9):
        made = frames.yuv(t).astype(int)
        converted = yuv.frame_to_yuv(frames(t)).astype(int)
        assert made.shape == (720, 270)
        assert np.abs(made - converted).mean() < 0.5, t
        # Only edges differ: text outlines (chroma is averaged per 2x2 block) and,
        # in karaoke, a fill cut at an even column rather than the nearest one.
        assert (np.abs(made - converted) > 8).mean() < 0.01, t
    assert frames.yuv(0.9) is frames.yuv(0.9)  # an unchanged frame is not made again


def test_a_new_transition_is_one_function_and_one_line_in_the_table(tmp_path, monkeypatch):
    """The wipe of CONTRIBUTING.md: registered, the request takes it and the
    render draws it (left of the edge the incoming picture, right the outgoing)."""
    from dataclasses import replace

    from reelsmith.core.settings import Settings
    from reelsmith.render import transitions
    from reelsmith.render.backdrop import MediaBackground
    from reelsmith.render.transitions.base import ease
    from reelsmith.request import CreateRequest
    from tests.helpers.timelines import scenes_at

    def wipe(a, b, p, split=lambda f: (f,)):
        out = a.copy()
        for pb, po in zip(split(b), split(out)):
            k = round(po.shape[1] * ease(p))
            po[:, :k] = pb[:, :k]
        return out

    monkeypatch.setitem(transitions.TRANSITIONS, "wipe", wipe)
    request = CreateRequest.parse({"topic": "tea", "transition": "wipe"}, Settings())
    assert request.transition == "wipe"

    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (100, 160), (220, 30, 30)).save(red)
    Image.new("RGB", (100, 160), (30, 60, 220)).save(blue)
    timeline = scenes_at([0.0, 2.0], 4.0, size=(90, 160), media=[red, blue])
    timeline = replace(timeline, transitions=(Transition("wipe", 1.0),))
    background = MediaBackground(timeline)
    try:
        frame = background.frame_at(2.0)  # halfway: the edge in the middle
        assert frame[:, :40, 2].mean() > 200 and frame[:, :40, 0].mean() < 50  # blue in
        assert frame[:, 50:, 0].mean() > 200 and frame[:, 50:, 2].mean() < 50  # red out
    finally:
        background.close()
