"""The visual sources: the registry and auto's choice, AI images (the real
openai SDK against a loopback fake), stock downloads, fallbacks, and the
cache's bound on media copies."""

import threading

import pytest
from PIL import Image

from cache import Cache
from reelsmith.core.exceptions import UnknownVisuals
from reelsmith.core.settings import Settings
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


# -- the registry and auto's choice ------------------------------------------------
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
    assert run("auto", s).source == "icons"  # not set up here: auto passes it over
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
    assert [p["source"] for p in result.per_sentence] == ["icons"] * 3
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
    the last image API call fails with 500 and that sentence gets the icons look."""
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
    assert sources == ["pexels"] * 5 + ["ai", "icons"]
    assert len({p for p in result.paths if p}) == 6  # never the same clip twice
    assert result.paths[-1] is None
    assert result.source == "pexels,ai,icons"
    assert "pexels: nothing new for" in result.per_sentence[5]["note"]
    assert "ai: HTTP 500 -> icon 🐙 octopus for 'octopus'" in result.per_sentence[6]["note"]


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
