"""Real renders with moviepy + the bundled ffmpeg, small (270x480) so they take seconds."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelsmith.captions.subtitles import to_srt
from reelsmith.core.exceptions import TaskCanceled
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline, Transition, frame_size
from reelsmith.voice.synthesizer import SpeechSynthesizer
from tests.helpers.media import (
    FFMPEG,
    corner_colour,
    loudness,
    mean_volume_db,
    probe,
    stream_duration,
)
from video_creator import VideoCreator

SENTENCES = [
    "Octopuses have three hearts.",
    "Two of them pump blood through the gills.",
    "The third one feeds the rest of the body.",
]
SMALL = RenderSettings(width=270, height=480, preset="veryfast")


@pytest.fixture(scope="module")
def narration(tmp_path_factory):
    work = tmp_path_factory.mktemp("voice")
    return SpeechSynthesizer(Settings()).narrate(SENTENCES, work, language="en", voice="piper")


TITLE = "Why octopuses have three hearts"


@pytest.fixture
def creator():
    return VideoCreator(Settings.build(render=SMALL))


def timeline(narration, aspect="9:16", **options) -> Timeline:
    """The timeline the pipeline would build for the narration, at SMALL's size."""
    return Timeline.narrated(
        narration, size=frame_size(SMALL, aspect), title=TITLE, language="en", **options
    )


def test_render_produces_platform_ready_mp4(creator, narration, tmp_path):
    out = tmp_path / "video.mp4"
    result = creator.render(timeline(narration), out)
    info = probe(out)
    assert (info.width, info.height, info.fps) == (270, 480, 30.0)
    assert info.video == "h264 (High)" and info.pix_fmt == "yuv420p"
    assert info.audio == "aac (LC)" and info.sample_rate == 48000
    assert info.faststart
    expected = LEAD_IN + narration.duration + GAP * (len(SENTENCES) - 1) + TAIL
    assert result.timeline.duration == pytest.approx(expected, abs=0.01)
    assert stream_duration(out, "v") == pytest.approx(expected, abs=0.1)
    assert stream_duration(out, "a") == pytest.approx(expected, abs=0.1)
    integrated, true_peak = loudness(out)
    assert integrated == pytest.approx(-14.0, abs=1.0)
    assert true_peak <= -1.0
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.size == (270, 480)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.jpg", "video.mp4", "video.srt"]


def test_captions_are_timed_to_each_sentence_audio(creator, narration, tmp_path):
    out = tmp_path / "video.mp4"
    result = creator.render(timeline(narration), out)
    cues = result.timeline.cues
    t = LEAD_IN
    for cue, seg in zip(cues, narration.segments):
        assert cue.text == seg.text
        assert cue.start == pytest.approx(t, abs=1e-3)
        assert cue.end - cue.start == pytest.approx(seg.duration, abs=1e-3)
        t = cue.end + GAP
    srt = out.with_suffix(".srt").read_text()
    assert srt == to_srt(cues) == result.timeline.subtitles("srt")
    assert "00:00:00,400 --> " in srt
    # The voice is where the cues say it is: loud inside a cue, silent in the lead-in.
    first = cues[0]
    assert mean_volume_db(out, 0.0, LEAD_IN - 0.1) < -60
    assert mean_volume_db(out, first.start + 0.1, first.end - 0.1) > -35


def test_video_appears_only_when_complete(creator, narration, tmp_path):
    out = tmp_path / "video.mp4"
    seen = []

    def progress(p):
        seen.append((p, out.exists()))

    creator.render(timeline(narration), out, progress=progress)
    assert seen and not any(exists for _, exists in seen)  # never visible mid-render
    assert seen[-1][0] == pytest.approx(1.0)
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)
    assert out.exists()


def test_cancel_mid_render_leaves_no_video(creator, narration, tmp_path):
    out = tmp_path / "video.mp4"

    def progress(p):
        if p > 0.3:
            raise TaskCanceled("canceled by the user")

    with pytest.raises(TaskCanceled):
        creator.render(timeline(narration), out, progress=progress)
    assert list(tmp_path.iterdir()) == []  # no video, subtitles, thumbnail or temp files


def test_batch_renders_each_job_and_reports_failures(creator, narration, tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text("not a picture")
    jobs = [
        (timeline(narration), tmp_path / "a.mp4"),
        (timeline(narration, media=[doc]), tmp_path / "bad.mp4"),
        (timeline(narration), tmp_path / "b.mp4"),
    ]
    seen = {}
    results = creator.render_batch(jobs, max_workers=2, progress=seen.setdefault)
    assert results[0].video_path == tmp_path / "a.mp4" and probe(tmp_path / "a.mp4").width == 270
    assert results[2].video_path == tmp_path / "b.mp4" and probe(tmp_path / "b.mp4").width == 270
    assert results[1].stage == "render" and "not an image or video clip" in results[1].message
    assert not (tmp_path / "bad.mp4").exists()
    assert set(seen) == {0, 1, 2}  # each job reported its progress


def test_render_settings_are_passed_to_ffmpeg(narration, tmp_path, monkeypatch):
    import subprocess

    commands = []
    real = subprocess.Popen

    def spy(cmd, *args, **kwargs):
        commands.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    render = RenderSettings(
        width=270, height=480, threads=2, preset="ultrafast", audio_bitrate="96k"
    )
    out = tmp_path / "v.mp4"
    VideoCreator(Settings.build(render=render)).render(timeline(narration), out)
    (cmd,) = [c for c in commands if "-i" in c and c[c.index("-i") + 1] == "-"]
    options = list(zip(cmd, cmd[1:]))
    assert ("-threads", "2") in options and ("-preset", "ultrafast") in options
    assert ("-b:a", "96k") in options


def test_colours_survive_the_yuv_pipe(creator, narration, tmp_path):
    """Frames are converted to yuv420p in Python: the file must decode back to
    the frames we made. A wrong range shifts every pixel by 7-10 levels; the
    matrix is the one the file is tagged with."""
    import subprocess

    out = tmp_path / "v.mp4"
    creator.render(timeline(narration), out)
    w, h = SMALL.width, SMALL.height
    frame_no = 45  # 1.5 s: title card and the first caption over the background
    decoded = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-i",
            str(out),
            "-vf",
            f"select=eq(n\\,{frame_no})",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    decoded = np.frombuffer(decoded, np.uint8).reshape(h, w, 3).astype(int)
    made = FrameMaker(timeline(narration))(frame_no / 30)
    error = np.abs(decoded - made.astype(int))
    assert error.mean() < 3, error.mean()
    assert np.abs(decoded.mean(axis=(0, 1)) - made.mean(axis=(0, 1))).max() < 3
    assert (
        "smpte170m"
        in subprocess.run(
            [FFMPEG, "-hide_banner", "-i", str(out)], capture_output=True, text=True
        ).stderr
    )


def test_default_render_settings():
    r = RenderSettings()
    assert (r.width, r.height, r.fps, r.threads, r.preset, r.audio_bitrate) == (
        1080,
        1920,
        30,
        4,
        "medium",
        "128k",
    )


@pytest.mark.parametrize(
    "aspect, size", [("9:16", (1080, 1920)), ("16:9", (1920, 1080)), ("1:1", (1080, 1080))]
)
def test_frame_size_per_aspect(aspect, size):
    assert frame_size(RenderSettings(), aspect) == size
    assert frame_size(RenderSettings(width=270, height=480), aspect) == tuple(v // 4 for v in size)


def test_landscape_and_square_renders(creator, narration, tmp_path):
    for aspect, size in (("16:9", (480, 270)), ("1:1", (270, 270))):
        result = creator.render(timeline(narration, aspect), tmp_path / f"{size[0]}.mp4")
        info = probe(result.video_path)
        assert (info.width, info.height) == size == result.timeline.size


def test_music_bed_is_ducked_under_the_voice(creator, narration, tmp_path):
    from tests.helpers.media import band_volume_db, make_tone

    music = make_tone(tmp_path / "bed.mp3", seconds=2.0, frequency=5000)  # shorter: it loops
    out = tmp_path / "music.mp4"
    result = creator.render(timeline(narration, music=music), out)
    integrated, true_peak = loudness(out)
    assert integrated == pytest.approx(-14.0, abs=1.0) and true_peak <= -1.0
    cues, duration = result.timeline.cues, result.timeline.duration
    first = cues[0]
    alone = band_volume_db(out, 0.05, LEAD_IN - 0.05, 5000)  # music only (fading in)
    gap = band_volume_db(out, cues[1].end + 0.05, cues[2].start - 0.02, 5000)
    under_voice = band_volume_db(out, first.start + 0.3, first.end - 0.1, 5000)
    last = band_volume_db(out, duration - 0.6, duration - 0.1, 5000)
    assert alone > -70 and gap > -60  # the bed is there
    assert under_voice < gap - 4  # and ducked while speaking
    assert last < gap  # fading out at the end


def test_own_images_and_clips_as_backgrounds(creator, narration, tmp_path):
    from tests.helpers.media import make_clip

    red = tmp_path / "red.png"
    Image.new("RGB", (800, 600), (220, 30, 30)).save(red)
    clip = make_clip(tmp_path / "clip.mp4", seconds=1.0, color_source="color=c=0x1e50dc")
    out = tmp_path / "own.mp4"
    result = creator.render(timeline(narration, media=[red, clip]), out)
    assert probe(out).width == 270

    c = result.timeline.cues
    r, _, b = corner_colour(out, c[0].start + 0.2)  # sentence 1: the red image
    assert r > 150 and b < 80
    r, _, b = corner_colour(out, c[1].start + 0.2)  # sentence 2: the blue clip
    assert b > 150 and r < 80
    r, _, b = corner_colour(out, c[1].start + 1.3)  # past the 1 s clip's end: it loops
    assert b > 150
    r, _, b = corner_colour(out, c[2].start + 0.2)  # sentence 3: the image again
    assert r > 150


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


def test_unknown_background_type_is_a_render_error(creator, narration, tmp_path):
    from reelsmith.core.exceptions import RenderError

    doc = tmp_path / "notes.txt"
    doc.write_text("hello")
    with pytest.raises(RenderError, match="not an image or video clip"):
        creator.render(timeline(narration, media=[doc]), tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_an_encoder_failure_says_why_and_leaves_no_files(narration, tmp_path):
    from reelsmith.core.exceptions import RenderError

    render = RenderSettings(width=270, height=480, codec="no_such_encoder")
    out = tmp_path / "v.mp4"
    with pytest.raises(RenderError, match="no_such_encoder"):
        VideoCreator(Settings.build(render=render)).render(timeline(narration), out)
    assert list(tmp_path.iterdir()) == []


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
