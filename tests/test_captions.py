"""Captions: timing from the voice, styles and presets, where they sit, line
wrapping, and subtitle files that ffmpeg reads back."""

import subprocess
from pathlib import Path

import pytest

from reelsmith.captions.chain import FontChain
from reelsmith.captions.presets import PRESETS, parse_style
from reelsmith.captions.raster import Layout, wrap_units
from reelsmith.captions.style import MODES, POSITIONS, CaptionStyle
from reelsmith.captions.subtitles import to_ass, to_srt, to_vtt
from reelsmith.captions.timing import cues_for
from reelsmith.captions.track import CaptionTrack
from reelsmith.core.exceptions import CaptionStyleError
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline
from reelsmith.voice.synthesizer import Narration, SpeechSegment, WordTiming
from tests.helpers.cues import timed_cue
from tests.helpers.media import FFMPEG


# -- timing -------------------------------------------------------------------
def test_cues_take_each_words_time_from_the_voice(tmp_path):
    segments = [
        SpeechSegment(
            "Bees dance.",
            tmp_path / "a.wav",
            1.0,
            [WordTiming("Bees", 0.05, 0.4), WordTiming("dance.", 0.45, 0.95)],
            "engine",
        ),
        SpeechSegment(
            "They vote.",
            tmp_path / "b.wav",
            0.8,
            [WordTiming("They", 0.1, 0.3), WordTiming("vote.", 0.3, 0.9)],
            "engine",
        ),
    ]
    narration = Narration(segments, "piper", "en", 22050)
    cues = cues_for(narration, [(0.4, 1.4), (1.7, 2.5)])
    assert narration.word_timing == "engine"
    assert [(w.text, w.start, w.end) for w in cues[0].words] == [
        ("Bees", pytest.approx(0.45), pytest.approx(0.8)),
        ("dance.", pytest.approx(0.85), pytest.approx(1.35)),
    ]
    # The engine's 0.9 s end lies past the 0.8 s sentence: kept inside the cue.
    assert cues[1].words[0].start == pytest.approx(1.8) and cues[1].words[-1].end == pytest.approx(
        2.5
    )
    for cue in cues:
        starts = [w.start for w in cue.words]
        assert starts == sorted(starts) and cue.start <= starts[0] and cue.words[-1].end <= cue.end


def test_a_segment_without_timings_is_estimated_and_says_so(tmp_path):
    narration = Narration(
        [SpeechSegment("A longer word here.", tmp_path / "a.wav", 2.0)], "gtts", "en", 24000
    )
    assert narration.word_timing == "estimated"
    (cue,) = cues_for(narration, [(0.4, 2.4)])
    assert [w.text for w in cue.words] == ["A", "longer", "word", "here."]
    assert cue.words[0].start == 0.4 and cue.words[-1].end == pytest.approx(2.4)
    lengths = [w.end - w.start for w in cue.words]
    assert lengths[1] > lengths[0]  # "longer" takes longer than "A"


def test_result_captions_round_trip():
    """A result's captions are the timeline's; read back, they give the same subtitles."""
    cues = [timed_cue(), timed_cue("five six", start=3.4, index=2)]
    timeline = Timeline.from_cues(cues, size=(540, 960), title="t", style=PRESETS["karaoke"])
    result = {"captions": timeline.captions(), "width": 540, "height": 960, "title": "t"}
    back = Timeline.from_result(result, PRESETS["karaoke"])
    assert [c.text for c in back.cues] == ["one two three four", "five six"]
    assert back.captions() == timeline.captions()
    assert back.captions()[1]["words"][0] == {"text": "five", "start": 3.4, "end": 3.85}
    for fmt in ("srt", "vtt", "ass"):
        assert back.subtitles(fmt) == timeline.subtitles(fmt)


# -- styles -------------------------------------------------------------------
def test_presets_and_objects_parse():
    assert parse_style(None) == PRESETS["classic"] == parse_style("classic")
    assert parse_style("pop").mode == "words"
    style = parse_style({"preset": "karaoke", "size": 80, "text_color": "#ff0000", "box": False})
    assert (style.mode, style.size, style.text_color, style.box) == (
        "karaoke",
        80,
        "#FF0000",
        False,
    )
    assert style.rgb("text_color") == (255, 0, 0)
    assert parse_style({"case": "upper"}).cased("Hi there") == "HI THERE"


@pytest.mark.parametrize(
    "value, field",
    [
        ("glitter", "caption_style"),
        (42, "caption_style"),
        ({"preset": "nope"}, "caption_style"),
        ({"colour": "#fff"}, "caption_style.colour"),
        ({"size": 5}, "caption_style.size"),
        ({"size": "big"}, "caption_style.size"),
        ({"size": 40.5}, "caption_style.size"),
        ({"text_color": "red"}, "caption_style.text_color"),
        ({"mode": "scroll"}, "caption_style.mode"),
        ({"position": "left"}, "caption_style.position"),
        ({"box": "yes"}, "caption_style.box"),
        ({"box_opacity": 2}, "caption_style.box_opacity"),
        ({"font": "comic-sans"}, "caption_style.font"),
        ({"words_per_group": 4}, "caption_style.words_per_group"),
    ],
)
def test_bad_styles_name_the_field(value, field):
    with pytest.raises(CaptionStyleError) as info:
        parse_style(value)
    assert info.value.field == field and field.split(".")[-1] in info.value.message


def test_a_new_preset_is_one_register_line_and_the_request_takes_it(monkeypatch):
    from reelsmith.captions import presets
    from reelsmith.core.settings import Settings
    from reelsmith.request import CreateRequest

    neon = CaptionStyle(mode="words", highlight_color="#FF00FF")
    monkeypatch.setitem(presets.PRESETS, "neon", neon)  # what register("neon", ...) does
    assert presets.register("neon", neon) is neon
    request = CreateRequest.parse({"topic": "tea", "caption_style": "neon"}, Settings())
    assert parse_style(request.caption_style) == neon
    assert "neon" in CreateRequest.field_schemas(Settings())["caption_style"]["anyOf"][0]["enum"]


# -- layout -------------------------------------------------------------------
LONG = (
    "This deliberately long caption keeps going with many words so that it wraps over several "
    "lines and would spill into the bottom of the frame if nothing kept it inside the safe area"
)


@pytest.mark.parametrize("mode", [m for m in MODES if m != "none"])
@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("size", [(540, 960), (960, 540), (540, 540)])
def test_every_mode_and_position_stays_inside_the_safe_area(mode, position, size):
    cues = [
        timed_cue("Short.", 0.5),
        timed_cue(LONG, 1.2, 0.1, 2),
        timed_cue("Antidisestablishmentarianism " * 6, 6.2, 0.2, 3),
    ]
    track = CaptionTrack(cues, CaptionStyle(mode=mode, position=position, size=120), size)
    w, h = size
    layout = Layout.for_size(w, h)
    assert track.overlays
    for overlay in track.overlays:
        x0, y0, x1, y1 = overlay.box
        assert x0 >= w * layout.caption_left - 1
        assert x1 <= w * (layout.caption_left + layout.caption_width) + 1
        assert y0 >= h * layout.caption_top_limit - 1 and y1 <= h * layout.caption_bottom_limit + 1
    if h > w:  # 9:16: clear of the bottom 20 % and the right-hand 16 % icon column
        assert all(o.box[3] <= 0.8 * h and o.box[2] <= 0.84 * w for o in track.overlays)


def test_positions_place_the_caption_top_middle_and_bottom():
    cue = timed_cue()
    tops = [
        CaptionTrack([cue], CaptionStyle(position=p), (540, 960)).items[0].base.box[1]
        for p in POSITIONS
    ]
    assert tops == sorted(tops) and tops[0] < tops[2] - 200


def test_title_stays_inside_the_frame():
    frames = FrameMaker(
        Timeline.from_cues([timed_cue()], size=(540, 960), duration=9, title=LONG, ken_burns=False)
    )
    x0, y0, x1, y1 = frames.title.box
    assert 0 <= x0 and x1 <= 540 and y1 <= 960 * 0.6


# -- subtitle files -----------------------------------------------------------
def read_back(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "srt", "-"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_vtt_and_ass_carry_word_timing_and_ffmpeg_reads_them(tmp_path):
    cues = [timed_cue("one two three", 0.4), timed_cue("four five", 2.5, index=2)]
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT") and "00:00:00.400 --> 00:00:01.850" in vtt
    assert "one <00:00:00.900>two <00:00:01.400>three" in vtt
    ass = to_ass(cues, PRESETS["karaoke"], (1080, 1920))
    assert "{\\kf45}one {\\k5}{\\kf45}two" in ass and "PlayResY: 1920" in ass
    for name, text in (("s.vtt", vtt), ("s.ass", ass), ("s.srt", to_srt(cues))):
        srt = read_back(tmp_path, name, text)
        assert "00:00:00,400 --> 00:00:01,850" in srt, (name, srt)
        assert "00:00:02,500 --> " in srt and "five" in srt


# -- wrapping ---------------------------------------------------------------
def test_wrap_fits_the_width_and_the_unit_limit():
    chain = FontChain("noto-sans", 40)
    text = (
        "Supercalifragilisticexpialidocious words wrap without running past the edge of the frame"
    )
    lines = wrap_units(text, chain, 200)
    assert len(lines) > 3
    assert all(chain.length(line) <= 200 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(len(line.split()) <= 2 for line in wrap_units(text, chain, 2000, max_units=2))
