"""Captions: timing from the voice, styles and modes, where they sit, what a
frame shows at time t, and subtitle files that ffmpeg reads back."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelsmith.captions.chain import FontChain
from reelsmith.captions.presets import PRESETS, parse_style
from reelsmith.captions.raster import Layout, wrap_units
from reelsmith.captions.style import MODES, POSITIONS, CaptionStyle
from reelsmith.captions.subtitles import to_ass, to_srt, to_vtt
from reelsmith.captions.timing import Cue, Word, cues_for
from reelsmith.captions.track import CaptionTrack
from reelsmith.core.exceptions import CaptionStyleError
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline
from reelsmith.voice.synthesizer import Narration, SpeechSegment, WordTiming
from tests.helpers.media import FFMPEG
from video_creator import render_preview

YELLOW = np.array(PRESETS["classic"].rgb("highlight_color"))


def timed_cue(text="one two three four", start=1.0, step=0.5, index=1) -> Cue:
    words = [
        Word(w, start + i * step, start + (i + 1) * step - 0.05) for i, w in enumerate(text.split())
    ]
    return Cue(index, text, start, words[-1].end, words)


def share(region: np.ndarray, colour) -> float:
    """The share of pixels in ``region`` within a small distance of ``colour``."""
    return float((np.abs(region.astype(int) - np.array(colour)).sum(axis=2) < 60).mean())


def crop(frame, box):
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1]


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


# -- what a frame shows -------------------------------------------------------
def frames_for(cue, style, size=(540, 960)):
    return FrameMaker(
        Timeline.from_cues(
            [cue], size=size, duration=cue.end + 1, title="t", ken_burns=False, style=style
        )
    )


def test_sentence_mode_highlights_the_word_the_timings_name():
    cue = Cue(
        1,
        "one two three four",
        3.0,
        5.0,
        [
            Word("one", 3.0, 3.2),
            Word("two", 3.3, 4.1),
            Word("three", 4.2, 4.4),
            Word("four", 4.5, 4.9),
        ],
    )  # uneven on purpose: not what a character count gives
    frames = frames_for(cue, PRESETS["classic"])
    overlays = frames.captions.items[0].highlights
    assert len(overlays) == 4
    assert [o.box[0] for o in overlays] == sorted(o.box[0] for o in overlays)  # left to right
    for t, spoken in [(3.1, 0), (3.35, 1), (4.05, 1), (4.3, 2), (4.8, 3)]:
        frame = frames(t)
        for i, overlay in enumerate(overlays):
            lit = share(crop(frame, overlay.box), YELLOW)
            assert (lit > 0.1) == (i == spoken), (t, i, lit)
    assert all(share(crop(frames(5.5), o.box), YELLOW) < 0.01 for o in overlays)  # after it


def test_words_mode_shows_the_group_being_spoken_and_pops_in():
    cue = timed_cue("alpha beta gamma delta epsilon", start=3.0, step=0.5)
    style = parse_style({"preset": "pop", "words_per_group": 2, "case": "none"})
    frames = frames_for(cue, style)
    items = frames.captions.items
    assert [[w.text for w in item.words] for item in items] == [
        ["alpha", "beta"],
        ["gamma", "delta"],
        ["epsilon"],
    ]
    assert [item.start for item in items] == [3.0, 4.0, 5.0]
    green = style.rgb("highlight_color")
    for t, item_no, word_no in [(3.2, 0, 0), (3.7, 0, 1), (4.2, 1, 0), (5.2, 2, 0)]:
        frame = frames(t)
        assert frames.captions.item_index(t) == item_no
        lit = share(crop(frame, items[item_no].highlights[word_no].box), green)
        assert lit > 0.1, (t, lit)
    # The first frames of a group are smaller: it pops in.
    early = frames.captions.state(4.0 + 0.01)
    assert early[2] == 0 and frames.captions.state(4.2)[2] is None
    small = items[1].pops[0].box
    full = items[1].base.box
    assert small[2] - small[0] < full[2] - full[0]


def test_karaoke_fills_progressively():
    cue = timed_cue("one two three", start=3.0, step=1.0)
    style = PRESETS["karaoke"]
    frames = frames_for(cue, style)
    item = frames.captions.items[0]
    blue = style.rgb("highlight_color")
    second = item.highlights[1].box

    def filled(t):
        return share(crop(frames(t), second), blue)

    assert filled(3.5) < 0.01  # first word filling, second not yet
    quarter, three_quarters = filled(4.2), filled(4.7)
    assert 0 < quarter < three_quarters  # the second word fills as it is spoken
    assert filled(5.5) >= three_quarters  # and stays filled


def test_right_to_left_highlight_and_fill_start_at_the_right():
    text = "مرحبا بكم في عالم"
    cue = timed_cue(text, start=3.0, step=0.5)
    for style in (PRESETS["classic"], PRESETS["karaoke"]):
        item = frames_for(cue, style).captions.items[0]
        lefts = [o.box[0] for o in item.highlights]
        assert len(lefts) == 4 and lefts == sorted(lefts, reverse=True), style.mode
    frames = frames_for(cue, PRESETS["karaoke"])
    box = frames.captions.items[0].highlights[0].box
    region = crop(frames(3.2), box)  # the first word, 40 % filled: its right part
    blue = PRESETS["karaoke"].rgb("highlight_color")
    half = region.shape[1] // 2
    assert share(region[:, half:], blue) > share(region[:, :half], blue) + 0.05


def test_mode_none_draws_no_caption():
    cue = timed_cue()
    plain = frames_for(cue, CaptionStyle(mode="none"))
    assert plain.captions.items == []
    assert np.array_equal(plain(3.5), plain(0.5 + 2.5))  # nothing changes past the title


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


# -- fonts and preview --------------------------------------------------------
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


SCRIPTS = {  # language -> a caption in its script (with emoji where creators put them)
    "zh-CN": "蜜蜂用舞蹈告诉同伴花在哪里，每一次转身都指向太阳的方向。",
    "ja": "ミツバチはダンスで花の場所を仲間に伝えます。",
    "ko": "꿀벌은 춤으로 꽃의 위치를 알려 줍니다.",
    "ar": "النحل يرقص ليخبر رفاقه بمكان الزهور",
    "he": "הדבורים רוקדות כדי לספר היכן הפרחים",
    "hi": "मधुमक्खियाँ नाचकर फूलों का पता बताती हैं",
    "bn": "মৌমাছি নাচের মাধ্যমে ফুলের খবর দেয়",
    "ta": "தேனீக்கள் நடனமாடி பூக்களின் இடத்தைச் சொல்கின்றன",
    "te": "తేనెటీగలు నృత్యం ద్వారా పువ్వుల స్థానం చెబుతాయి",
    # Thai and Khmer put spaces between phrases, not words: ICU's dictionaries
    # cut the phrases into words.
    "th": "ผึ้งเต้นรำ เพื่อบอกที่อยู่ ของดอกไม้",
    "km": "ឃ្មុំរាំ ដើម្បីប្រាប់ ទីតាំងផ្កា",
    "ka": "ფუტკრები ცეკვით ყვავილების ადგილს აჩვენებენ",
    "hy": "Մեղուները պարով ցույց են տալիս ծաղիկների տեղը",
    "am": "ንቦች በዳንስ የአበቦችን ቦታ ያሳያሉ",
    "en": "Octopuses have three hearts 💙💙💙 and blue blood 🐙",
}


@pytest.mark.parametrize("language", list(SCRIPTS))
def test_every_script_is_drawn_and_highlighted_inside_the_safe_area(language):
    text = SCRIPTS[language]
    cue = Cue(1, text, 3.0, 6.0)  # estimated timings, split into highlight units
    frames = FrameMaker(
        Timeline.from_cues(
            [cue], size=(540, 960), duration=7, title=text[:12], ken_burns=False, language=language
        )
    )
    assert frames.missing == []  # every character has a bundled font
    item = frames.captions.items[0]
    assert len(item.highlights) == len(cue.words) > 1  # never the whole sentence as one unit
    layout = Layout.for_size(540, 960)
    for overlay in (item.base, *item.highlights):
        x0, y0, x1, y1 = overlay.box
        assert (
            x0 >= 540 * layout.caption_left - 1
            and x1 <= 540 * (layout.caption_left + layout.caption_width) + 1
        )
        assert y1 <= 960 * layout.caption_bottom_limit + 1
    chain = FontChain("noto-sans", 40, language=language)
    assert chain.missing(text) == []


def test_chinese_breaks_between_characters_and_highlights_one_at_a_time():
    text = SCRIPTS["zh-CN"]
    cue = Cue(1, text, 3.0, 6.0)
    assert len(cue.words) >= 20 and all(len(w.text) <= 2 for w in cue.words)
    frames = FrameMaker(
        Timeline.from_cues(
            [cue], size=(540, 960), duration=7, title="蜜蜂", ken_burns=False, language="zh-CN"
        )
    )
    item = frames.captions.items[0]
    assert item.base.box[3] - item.base.box[1] > 80  # more than one line
    frame = frames(cue.words[5].start + 0.01)
    lit = [share(crop(frame, o.box), YELLOW) for o in item.highlights]
    assert max(range(len(lit)), key=lit.__getitem__) == 5


def test_emoji_are_drawn_in_colour():
    cue = Cue(1, "Three hearts 💙💙💙", 3.0, 5.0)
    frames = FrameMaker(
        Timeline.from_cues(
            [cue], size=(540, 960), duration=6, title="🐙 Octopus facts 🧠", ken_burns=False
        )
    )
    item = frames.captions.items[0]
    emoji_box = item.highlights[-1].box  # the 💙💙💙 unit
    region = crop(frames(3.1), emoji_box).astype(int)  # not spoken yet: the plain drawing
    blue = (region[..., 2] - np.maximum(region[..., 0], region[..., 1])) > 60
    assert blue.mean() > 0.05
    title = crop(frames(0.1), frames.title.box).astype(int)
    saturated = (title.max(axis=2) - title.min(axis=2)) > 80
    assert saturated.mean() > 0.01  # the octopus and the brain are in colour


@pytest.mark.parametrize("preset", list(PRESETS))
def test_preview_is_a_frame_in_the_style(preset):
    import io

    png = render_preview("Bees", "Scouts dance to vote for a home", PRESETS[preset], (270, 480))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (270, 480)
        pixels = np.asarray(image.convert("RGB"))
    highlight = PRESETS[preset].rgb("highlight_color")
    assert share(pixels, highlight) > 0.0005  # the spoken word (or the fill) is drawn


def test_a_rendered_frame_highlights_the_word_the_voice_timings_name(tmp_path):
    """End to end: real Piper narration, real render, decoded frames. At the
    middle of each word (by the narration's own timings) that word's box is
    highlighted in the decoded video."""
    from reelsmith.core.settings import RenderSettings, Settings
    from reelsmith.voice.synthesizer import SpeechSynthesizer
    from video_creator import VideoCreator

    text = "Bees vote with a dance."
    narration = SpeechSynthesizer(Settings()).narrate([text], tmp_path / "voice", voice="piper")
    creator = VideoCreator(
        Settings.build(render=RenderSettings(width=270, height=480, preset="veryfast"))
    )
    timeline = Timeline.narrated(narration, size=(270, 480), title="Bees", ken_burns=False)
    out = tmp_path / "v.mp4"
    result = creator.render(timeline, out)
    (cue,) = result.timeline.cues
    frames = FrameMaker(result.timeline)
    overlays = frames.captions.items[0].highlights
    assert len(overlays) == len(cue.words) == 5
    checked = 0
    for n, word in enumerate(cue.words):
        if word.end - word.start < 0.1:
            continue  # too short to be sure which frame is its middle
        frame_no = int((word.start + word.end) / 2 * 30)
        raw = subprocess.run(
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
        frame = np.frombuffer(raw, np.uint8).reshape(480, 270, 3)
        lit = [share(crop(frame, o.box), YELLOW) for o in overlays]
        assert max(range(len(lit)), key=lit.__getitem__) == n, (word, lit)
        checked += 1
    assert checked >= 3


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
