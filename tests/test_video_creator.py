"""Real renders with moviepy + the bundled ffmpeg, small (270x480) so they take seconds."""

import numpy as np
import pytest
from PIL import Image

from reelsmith.captions.subtitles import to_srt
from reelsmith.core.exceptions import TaskCanceled
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline, frame_size
from reelsmith.voice.synthesizer import SpeechSynthesizer
from tests.helpers.media import (
    FFMPEG,
    corner_colour,
    decode_frame,
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
    # each sentence starts on a frame: its pause before grows by less than a frame
    assert expected - 0.001 < result.timeline.duration < expected + len(SENTENCES) / 30
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
        # after the pause, on the next frame (1/30 s)
        assert t - 1e-3 < cue.start < t + 1 / 30
        assert cue.start * 30 == pytest.approx(round(cue.start * 30), abs=1e-6)
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
    decoded = decode_frame(out, (w, h), n=frame_no).astype(int)
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
