"""The icons look: the icon chosen for each sentence (and none when nothing
matches well), the palette taken from the topic's icon, the icon drawn at
its word's time in a real render, and captions readable on the field."""

import itertools

import numpy as np
import pytest

from cache import Cache
from reelsmith.core.settings import RenderSettings, Settings
from reelsmith.render.frames import FrameMaker
from reelsmith.render.timeline import Timeline
from reelsmith.script.templates import TEMPLATE_WORDS
from reelsmith.visuals import Context, choose
from reelsmith.visuals.icons.drawing import Appearance, IconsBackground, IconShow, icon_box
from reelsmith.visuals.icons.matching import forms, main_icon, match_sentence, match_word
from reelsmith.visuals.icons.palette import key_colour, palette_of
from reelsmith.visuals.icons.track import IconPicks
from reelsmith.visuals.look import Look
from reelsmith.visuals.motion import Background
from tests.helpers.media import decode_frame

TOPICS = ["the secret life of the octopus", "black holes", "the history of coffee", "a morning run"]


# -- choosing the icon ---------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence, emoji, name, word",
    [
        ("The octopus hides in a shell.", "🐙", "octopus", "octopus"),
        ("Octopuses have three hearts.", "🐙", "octopus", "Octopuses"),  # a plural
        ("Coffee was first brewed in Yemen.", "☕", "hot beverage", "Coffee"),  # a keyword
        ("Bees dance to choose a new home.", "🐝", "honeybee", "Bees"),
        ("She was running along the river at dawn.", "🏃", "person running", "running"),
        ("Black holes bend light around them.", "🕳️", "hole", "holes"),
        ("A cup of hot beverage warms the hands.", "☕", "hot beverage", "beverage"),  # a name
        ("The ocean is deep and cold.", "🌊", "water wave", "ocean"),
    ],
)
def test_each_sentence_gets_the_icon_its_words_name(sentence, emoji, name, word):
    icon = match_sentence(sentence)
    assert (icon.emoji, icon.name, icon.word) == (emoji, name, word)
    assert match_sentence(sentence) == icon  # the same every time: never at random


def test_other_languages_match_the_emoji_names_in_that_language():
    icon = match_sentence("Der Oktopus hat drei Herzen.", language="de")
    assert (icon.emoji, icon.name, icon.word) == ("🐙", "octopus", "Oktopus")
    assert match_sentence("La pieuvre a trois cœurs.", language="fr").emoji == "🐙"
    assert match_sentence("Der Rat der Stadt tagt.", language="de") is None  # a council, no rat
    assert match_word("rat").emoji == "🐀"  # the English word is one
    assert match_sentence("The octopus.", language="xx") is None  # no names in that language
    assert main_icon("Das geheime Leben des Oktopus", language="de-DE").emoji == "🐙"


@pytest.mark.parametrize(
    "sentence",
    [
        "Follow for more, and tell me in the comments what to explain next.",
        "The basic idea is simpler than it looks.",
        "It is what it is.",
        "",
    ],
)
def test_no_good_match_gives_no_icon(sentence):
    assert match_sentence(sentence) is None


def test_a_weak_match_is_no_match():
    # "hot" is only a modifier in "hot beverage", "hot pepper", ...: not the thing itself
    assert match_word("hot") is None or match_word("hot").name.endswith("hot")
    assert match_word("the") is None and match_word("people") is None


def test_plurals_and_simple_stems():
    assert "octopus" in forms("octopuses") and "berry" in forms("berries")
    assert "run" in forms("running") and "bake" in forms("baking") and "leaf" in forms("leaves")
    assert match_sentence("The honey is sealed in wax.") is None  # a verb is no seal


@pytest.mark.parametrize(
    "topic, emoji",
    [
        ("the secret life of the octopus", "🐙"),  # the head noun, not "secret" or "life"
        ("why octopuses have three hearts", "🐙"),  # a question's subject
        ("black holes", "🕳️"),
        ("volcanoes of Iceland", "🌋"),
        ("the history of coffee", "☕"),
        ("a morning run", "🏃"),
    ],
)
def test_the_topic_head_noun_gives_the_main_icon(topic, emoji):
    assert main_icon(topic).emoji == emoji


def test_auto_with_no_key_is_the_icons_source_with_an_icon_per_sentence(tmp_path):
    s = Settings.build(cache_dir=tmp_path)
    sentences = [
        "Most people never stop to ask why octopuses have three hearts.",
        "Follow for more, and tell me in the comments what to explain next.",
        "The basic idea is simpler than it sounds.",  # only the writer's own words: no icon
    ]
    result = choose(
        "auto",
        sentences,
        Context(topic="why octopuses have three hearts"),
        s,
        Cache(tmp_path),
        vague_words=TEMPLATE_WORDS,
    )
    assert result.source == "icons" and result.paths == [None, None, None]
    assert "icons" in result.note
    assert result.per_sentence[0]["icon"] == {"emoji": "🐙", "name": "octopus", "word": "octopuses"}
    assert result.per_sentence[1]["icon"] is None and result.icons[1] is None
    assert result.per_sentence[2]["icon"] is None
    assert result.main_icon.emoji == "🐙"


# -- colour from the topic --------------------------------------------------------------
def _icons_frame(topic, size=(180, 320), t=2.0):
    icon = main_icon(topic)
    show = IconShow(palette_of(icon.emoji), (Appearance(icon.emoji, 0.0, 10.0),))
    return IconsBackground(size, show).frame_at(t)


def test_the_palette_follows_the_icon():
    r, g, b = key_colour("🐙")
    assert r > 2 * g and r > 2 * b  # an octopus is red
    r, g, b = key_colour("🌊")
    assert b > r + 60  # the ocean is blue
    p = palette_of("🐙")
    assert p.top[0] > p.top[1] + 30 and p.top[0] > p.top[2] + 30
    means = {topic: _icons_frame(topic).reshape(-1, 3).mean(axis=0) for topic in TOPICS}
    for a, b in itertools.combinations(TOPICS, 2):
        assert np.linalg.norm(means[a] - means[b]) >= 20, (a, b, means[a], means[b])


def _contrast_with_white(frame: np.ndarray) -> float:
    """WCAG contrast of white text against the brightest (95th percentile)
    of the field where the captions go (the middle band of a 9:16 frame)."""
    h = frame.shape[0]
    band = frame[int(0.45 * h) : int(0.75 * h)].reshape(-1, 3) / 255.0
    linear = np.where(band <= 0.03928, band / 12.92, ((band + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return 1.05 / (np.percentile(luminance, 95) + 0.05)


@pytest.mark.parametrize("emoji", ["🐙", "☀️", "🥛", "🍋", "❄️", "🕳️", None])
def test_captions_stay_readable_on_the_field(emoji):
    """White captions on the icons field, even for a white or yellow icon,
    have at least the contrast they have on today's generated looks of the
    four topics (and WCAG AA's 4.5:1)."""
    today = min(
        _contrast_with_white(Background((180, 320), Look.of(t), 10, True).frame_at(2.0))
        for t in TOPICS
    )
    show = IconShow(palette_of(emoji), (Appearance(emoji, 0, 10),) if emoji else ())
    frame = IconsBackground((180, 320), show).frame_at(2.0)
    assert _contrast_with_white(frame) >= max(4.5, today)


# -- drawn at its word's time ------------------------------------------------------------
def test_the_icon_pops_in_at_its_word_in_a_real_render(tmp_path):
    """Real Piper narration and render: the sentence's icon is not on the
    frame before its word is spoken and is there, drawn in its colours, once
    it is (decoded frames of the MP4); the result names the caption's word."""
    from reelsmith.voice.synthesizer import SpeechSynthesizer
    from video_creator import VideoCreator

    text = "Far below the waves, in the cold and quiet deep sea, lives the clever octopus."
    narration = SpeechSynthesizer(Settings()).narrate([text], tmp_path / "voice", voice="piper")
    icon = match_sentence(text)
    assert icon.emoji == "🐙"
    size = (180, 320)
    creator = VideoCreator(Settings.build(render=RenderSettings(*size, preset="veryfast")))
    timeline = Timeline.narrated(
        narration, size=size, title="Octopus", icons=IconPicks(None, (icon,))
    )
    placed = timeline.scenes[0].icon
    assert placed.icon.word == "octopus." and placed.icon.word in [
        w.text for w in timeline.scenes[0].cue.words
    ]
    assert placed.at > 3.0  # after the title card, late in the sentence
    out = tmp_path / "v.mp4"
    creator.render(timeline, out)
    side, cx, cy = icon_box(size)
    box = (slice(cy - side // 2, cy + side // 2), slice(cx - side // 2, cx + side // 2))
    red = np.array(key_colour("🐙"))

    def red_share(t: float) -> float:
        frame = decode_frame(out, size, t=t)[box]
        return float((np.abs(frame.astype(int) - red).sum(axis=2) < 70).mean())

    before, after = red_share(placed.at - 0.3), red_share(placed.at + 0.6)
    assert before < 0.01 and after > 0.08, (before, after)
    frames = FrameMaker(timeline)
    assert not np.array_equal(frames(placed.at + 0.1).copy(), frames(placed.at + 1.2))  # it moves


def test_the_result_names_each_icon_and_the_caption_word_it_stands_for(tmp_path):
    """The whole pipeline, offline, with no key: the icons source is chosen
    and each sentence's icon names its caption's word exactly."""
    from pipeline import Pipeline
    from reelsmith.request import CreateRequest
    from tests.helpers import tiny_settings

    request = CreateRequest(
        topic="the secret life of the octopus",
        script="An octopus tastes with its arms. Tell me what to explain next.",
    )
    result = Pipeline(tiny_settings(tmp_path)).run(request, tmp_path / "v.mp4")
    assert result["visuals"] == "icons"
    first, second = result["visuals_per_sentence"]
    assert first["icon"]["emoji"] == "🐙" and first["icon"]["name"] == "octopus"
    words = [w["text"] for w in result["captions"][0]["words"]]
    assert first["icon"]["word"] in words and first["icon"]["word"].startswith("octopus")
    assert second["icon"] is None


def test_a_scene_segment_changes_only_with_the_icons_it_shows():
    """Segments are named by what their frames show: changing the last
    sentence's icon leaves the first scene's segment key as it was, and
    changes the last scene's (and the one before it, whose icon hands over)."""
    from reelsmith.render.segments import plan_segments
    from tests.helpers.cues import timed_cue

    def keys(last: str) -> list[str]:
        texts = ["the octopus swims", "then it rests", f"a {last} appears"]
        cues = [timed_cue(t, start=1.0 + 3 * i, index=i + 1) for i, t in enumerate(texts)]
        picks = IconPicks(main_icon("octopus"), tuple(match_sentence(t) for t in texts))
        timeline = Timeline.from_cues(cues, size=(180, 320), title="Octopus", icons=picks)
        return [p.key for p in plan_segments(timeline, RenderSettings(180, 320))]

    crab, shark = keys("crab"), keys("shark")
    assert crab[0] == shark[0] and crab[2] != shark[2]


def test_a_storyboard_thumbnail_is_a_still_of_the_icons_look():
    from reelsmith.visuals.icons.drawing import still

    red = np.array(key_colour("🐙"))
    with_icon = np.asarray(still((180, 320), "🐙", "🐙"))
    without = np.asarray(still((180, 320), "🐙", None))
    share = lambda f: float((np.abs(f.astype(int) - red).sum(axis=2) < 70).mean())  # noqa: E731
    assert share(with_icon) > 0.008 and share(without) < 0.001
