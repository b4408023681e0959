"""The visual sources' registry and choice, AI images (the real openai SDK
against a loopback fake), fallbacks, generated looks, and transitions."""

import math
import subprocess
import threading

import numpy as np
import pytest
from PIL import Image

from cache import Cache
from reelsmith.core.exceptions import BadRequest, UnknownVisuals
from reelsmith.core.settings import Settings
from reelsmith.render.transitions import TRANSITIONS
from reelsmith.request import CreateRequest
from reelsmith.visuals import SOURCES, Context, check_visuals, choose
from reelsmith.visuals.sources import Pick, register
from tests.helpers.fake_visuals import FakeImages, FakePexels2, FakePixabay

SENTENCES = ["Octopuses have three hearts.", "Their blood is blue.", "Follow for more."]


def run(name, s: Settings, sentences=SENTENCES, **kw):
    return choose(
        name,
        sentences,
        Context(topic="octopus hearts"),
        s,
        Cache(s.storage.cache_dir, default_ttl=s.storage.cache_ttl),
        **kw,
    )


# -- choice -------------------------------------------------------------------------
def test_check_visuals_names_the_field():
    s = Settings.build(pexels_api_key="k")
    assert check_visuals("auto", Settings()) == "auto"
    assert check_visuals("generated", Settings()) == "generated"
    assert check_visuals("pexels", s) == "pexels"
    assert check_visuals("ai", Settings.build(images_base_url="http://127.0.0.1:9/v1")) == "ai"
    with pytest.raises(
        UnknownVisuals, match="one of upload, pexels, pixabay, ai, generated"
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


def test_every_source_follows_the_protocol():
    for name, cls in SOURCES.items():
        source = cls(Settings(), None)
        assert source.name == name and callable(source.pick) and callable(source.missing)


class Swatches:
    """A source written here, as a new one would be: one class (``name``,
    ``key``, ``missing``, ``pick``) and one line, ``register(Swatches)``."""

    name = "swatches"
    key = "SWATCHES_DIR"

    def __init__(self, settings: Settings, cache: Cache):
        self.folder = settings.storage.data_dir / "swatches"

    def missing(self) -> str | None:
        return None if self.folder.is_dir() else "no SWATCHES_DIR"

    def pick(self, wanted, ctx):
        picks = []
        for want in wanted:
            path = self.folder / f"{want.index}.png"
            Image.new("RGB", (90, 160), (200, 20 * want.index, 40)).save(path)
            picks.append(Pick(path, f"swatch {want.index}"))
        return picks


@pytest.fixture
def swatches():
    register(Swatches)
    yield Swatches
    del SOURCES[Swatches.name]


def test_a_registered_source_is_chosen_checked_and_taken_by_auto(tmp_path, swatches):
    s = Settings.build(data_dir=tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(UnknownVisuals, match="no SWATCHES_DIR"):
        check_visuals("swatches", s)
    assert run("auto", s).source == "generated"  # not set up here: auto passes it over
    (tmp_path / "swatches").mkdir()
    assert check_visuals("swatches", s) == "swatches"
    for name in ("swatches", "auto"):  # the only source with its key set: auto's choice too
        result = run(name, s)
        assert result.source == "swatches" and result.note is None
        assert [p.name for p in result.paths] == ["0.png", "1.png", "2.png"]
        assert [p["note"] for p in result.per_sentence] == ["swatch 0", "swatch 1", "swatch 2"]
        assert all(Image.open(p).size == (90, 160) for p in result.paths)


def test_auto_takes_the_best_source_with_a_key(tmp_path):
    with FakePexels2() as pexels, FakePixabay() as pixabay:
        s = Settings.build(
            cache_dir=tmp_path,
            pixabay_api_key="k",
            pixabay_base_url=pixabay.url,
            pexels_base_url=pexels.url,
        )
        assert run("auto", s).source == "pixabay"  # no Pexels key: Pixabay
        assert pexels.requests == []
        s = s.with_(pexels_api_key="k", cache_dir=tmp_path / "2")
        assert run("auto", s).source == "pexels"  # both: Pexels first
        assert run("generated", s.with_(cache_dir=tmp_path / "3")).paths == [None] * 3


def test_unknown_visuals_fails_the_visuals_stage(tmp_path):
    with pytest.raises(UnknownVisuals) as err:
        run("giphy", Settings.build(cache_dir=tmp_path))
    assert err.value.stage == "visuals"


# -- AI images --------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["b64", "url"])
def test_ai_images_b64_and_url_once_per_prompt(tmp_path, mode):
    with FakeImages(mode=mode, colour=(30, 200, 60)) as server:
        s = Settings.build(
            cache_dir=tmp_path,
            images_base_url=server.base_url,
            images_api_key="img-key",
            images_model="flux-local",
        )
        prompts = ["A cartoon octopus with three glowing hearts", "", "An ocean at dusk"]
        result = run("ai", s, prompts=prompts, title="Three hearts")
        assert result.source == "ai" and result.note is None
        assert server.api_calls == 3 and server.downloads == (3 if mode == "url" else 0)
        bodies = [r["body"] for r in server.requests if r["body"]]
        assert [b["model"] for b in bodies] == ["flux-local"] * 3
        assert all(b["size"] == "1024x1536" and b["n"] == 1 for b in bodies)
        assert bodies[0]["prompt"] == prompts[0]
        assert bodies[1]["prompt"].startswith("Their blood is blue.")  # derived: no prompt given
        assert "Three hearts" in bodies[1]["prompt"]
        assert server.requests[0]["authorization"] == "Bearer img-key"
        for path in result.paths:
            with Image.open(path) as img:
                assert img.format == "PNG" and img.getpixel((5, 5)) == (30, 200, 60)
        again = run("ai", s, prompts=prompts, title="Three hearts")
        assert again.paths == result.paths
        assert server.api_calls == 3  # a repeat request calls no image API


def test_images_parallel_asks_for_that_many_images_at_once(tmp_path):
    """IMAGES_PARALLEL=3: the three images are asked for at once (the fake
    answers only once all three requests are in, else 503), and each
    sentence still gets the image of its own prompt."""
    with FakeImages() as server:
        server.together = threading.Barrier(3, timeout=10)
        s = Settings.build(cache_dir=tmp_path, images_base_url=server.base_url, images_parallel=3)
        prompts = ["A red octopus", "Blue blood in a vein", "A diver waving"]
        result = run("ai", s, prompts=prompts)
    assert [p["source"] for p in result.per_sentence] == ["ai"] * 3 and server.api_calls == 3
    assert [p["note"] for p in result.per_sentence] == [f"ai image for {p!r}" for p in prompts]
    assert len(set(result.paths)) == 3


def test_images_one_at_a_time_by_default(tmp_path):
    """The default (1) suits a local server making one image at a time: with
    the fake waiting for two requests at once, the first times out into 503
    and the rest skip the source with that reason."""
    with FakeImages() as server:
        server.together = threading.Barrier(2, timeout=0.5)
        s = Settings.build(cache_dir=tmp_path, images_base_url=server.base_url)
        result = run("ai", s)
    assert server.api_calls == 1
    assert [p["source"] for p in result.per_sentence] == ["generated"] * 3
    assert all(p["note"].startswith("ai: HTTP 503") for p in result.per_sentence)


def test_progress_is_the_share_of_files_fetched_and_a_raise_stops_the_rest(tmp_path):
    """``progress`` hears the share of sentences with a file as each comes;
    raising from it (a cancel) sends no further request."""

    class Stop(Exception):
        pass

    def stop(share):
        raise Stop

    with FakeImages() as server:
        s = Settings.build(cache_dir=tmp_path, images_base_url=server.base_url)
        shares = []
        run("ai", s, progress=shares.append)
        assert shares == [1 / 3, 2 / 3, 1.0] and server.api_calls == 3
        with pytest.raises(Stop):
            run("ai", s.with_(cache_dir=tmp_path / "again"), progress=stop)
        assert server.api_calls == 4


def test_stock_files_are_downloaded_at_once(tmp_path):
    """The searches go one by one (so no clip repeats); the three files are
    then fetched at once (the fake answers only once all three are in)."""
    with FakePexels2() as pexels:
        pexels.together = threading.Barrier(3, timeout=10)
        s = Settings.build(cache_dir=tmp_path, pexels_api_key="k", pexels_base_url=pexels.url)
        result = run("pexels", s)
    assert [p["source"] for p in result.per_sentence] == ["pexels"] * 3
    assert pexels.downloads == 3 and len(set(result.paths)) == 3


# -- fallbacks ----------------------------------------------------------------------
def test_429_falls_back_to_the_next_source_with_the_reason(tmp_path):
    with FakePexels2(mode="429") as pexels, FakePixabay() as pixabay:
        s = Settings.build(
            cache_dir=tmp_path,
            pexels_api_key="k",
            pexels_base_url=pexels.url,
            pixabay_api_key="k",
            pixabay_base_url=pixabay.url,
        )
        result = run("pexels", s)
    assert pexels.api_calls == 1
    assert [p["source"] for p in result.per_sentence] == ["pixabay"] * 3
    assert result.per_sentence[0]["note"].startswith(
        "pexels: rate limited (HTTP 429) -> pixabay clip"
    )
    assert result.source == "pixabay" and result.note == "pexels: rate limited (HTTP 429)"


def test_500_and_timeout_fall_back_source_by_source(tmp_path):
    with (
        FakePexels2(mode="500") as pexels,
        FakePixabay(mode="slow", delay=5) as pixabay,
        FakeImages() as images,
    ):
        s = Settings.build(
            cache_dir=tmp_path,
            visuals_timeout=0.5,
            pexels_api_key="k",
            pexels_base_url=pexels.url,
            pixabay_api_key="k",
            pixabay_base_url=pixabay.url,
            images_base_url=images.base_url,
        )
        result = run("auto", s)
    assert [p["source"] for p in result.per_sentence] == ["ai"] * 3
    note = result.per_sentence[0]["note"]
    assert note.startswith("pexels: HTTP 500 -> pixabay: timed out after 0.5 s -> ai image")
    assert pixabay.api_calls == 1 and images.api_calls == 3


def test_a_sentence_with_no_result_goes_to_the_next_source(tmp_path):
    """Pexels has three clips and two photos for any search: sentences 6 and 7
    get nothing new from it (no clip is repeated) and go to the AI source;
    the last image API call fails with 500 and that sentence is generated."""
    sentences = [f"Fact number {n} about octopus hearts." for n in range(7)]
    with FakePexels2() as pexels, FakeImages(modes=["b64", "500"]) as images:
        s = Settings.build(
            cache_dir=tmp_path,
            pexels_api_key="k",
            pexels_base_url=pexels.url,
            images_api_key="k",
            images_base_url=images.base_url,
        )
        result = run("auto", s, sentences=sentences)
    sources = [p["source"] for p in result.per_sentence]
    assert sources == ["pexels"] * 5 + ["ai", "generated"]
    assert len({p for p in result.paths if p}) == 6  # never the same clip twice
    assert result.paths[-1] is None
    assert result.source == "pexels,ai,generated"
    assert "pexels: nothing new for" in result.per_sentence[5]["note"]
    assert result.per_sentence[6]["note"].endswith("ai: HTTP 500 -> generated background")


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


def test_media_copies_stay_within_the_cache_bound(tmp_path):
    """The renderer's file copies of cached downloads go when the cache evicts
    their entry, so they never grow past the cache's own limit."""
    from cache import Cache
    from reelsmith.visuals.sources.files import media_file

    cache = Cache(tmp_path / "cache", max_size_mb=0.2, default_ttl=3600)
    paths = [
        media_file(cache, f"clip {i}", ".mp4", lambda i=i: bytes([i]) * 60_000) for i in range(8)
    ]
    assert paths[-1].read_bytes() == bytes([7]) * 60_000
    copies = {p.name for p in (tmp_path / "cache" / "media").iterdir()}
    held = [i for i in range(8) if cache.get(f"clip {i}") is not None]
    assert 0 < len(held) < 8  # the cache evicted some
    assert copies <= {paths[i].name for i in held} | {paths[-1].name}
    assert not paths[0].exists()  # the oldest copy went with its entry
