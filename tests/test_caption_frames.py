"""What a frame shows at time t: highlights and modes, every script and emoji
drawn, style previews, and a rendered video's decoded frames."""

import numpy as np
import pytest
from PIL import Image

from reelsmith.captions.chain import FontChain
from reelsmith.captions.presets import PRESETS, parse_style
from reelsmith.captions.raster import Layout
from reelsmith.captions.style import CaptionStyle
from reelsmith.captions.timing import Cue, Word
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline
from tests.helpers.cues import timed_cue
from tests.helpers.media import decode_frame
from video_creator import render_preview

YELLOW = np.array(PRESETS["classic"].rgb("highlight_color"))


def share(region: np.ndarray, colour) -> float:
    """The share of pixels in ``region`` within a small distance of ``colour``."""
    return float((np.abs(region.astype(int) - np.array(colour)).sum(axis=2) < 60).mean())


def crop(frame, box):
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1]


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


# -- scripts, emoji and previews --------------------------------------------
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
        frame = decode_frame(out, (270, 480), n=frame_no)
        lit = [share(crop(frame, o.box), YELLOW) for o in overlays]
        assert max(range(len(lit)), key=lit.__getitem__) == n, (word, lit)
        checked += 1
    assert checked >= 3
