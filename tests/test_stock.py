"""Stock sources (Pexels, Pixabay) through visuals.choose, against loopback fakes
of their APIs: search terms, orientation and duration, no clip repeated,
downloads through the disk cache."""

from urllib.parse import urlparse

import pytest

from cache import Cache, make_key
from reelsmith.core.settings import Settings
from reelsmith.script.templates import TEMPLATE_WORDS
from reelsmith.visuals import Context, choose
from reelsmith.visuals.choosing import keywords
from tests.helpers.fake_visuals import FakePexels2, FakePixabay

SENTENCES = ["Octopuses have three hearts.", "Their blood is blue.", "Follow for more."]


def settings(tmp_path, **kw) -> Settings:
    return Settings.build(cache_dir=tmp_path / "cache", **kw)


def run(name, s: Settings, sentences=SENTENCES, aspect="9:16", **kw):
    """``choose`` as the pipeline calls it: the offline writer's words are filler."""
    cache = Cache(s.storage.cache_dir, default_ttl=s.storage.cache_ttl)
    ctx = Context(topic="octopus hearts", aspect=aspect)
    return choose(name, sentences, ctx, s, cache, vague_words=TEMPLATE_WORDS, **kw)


def served(server, result, source: str) -> list[str | None]:
    """The file each sentence got, as its path on ``server`` (the files download
    several at once, so in no set order; each copy is named after its cache
    entry, whose key is the file's URL)."""
    urls = {
        server.url + urlparse(r["path"]).path
        for r in server.requests
        if r["path"].startswith("/files/")
    }
    by_name = {
        Cache.digest(make_key("visuals", source, "file", url)): urlparse(url).path for url in urls
    }
    return [by_name[p.stem] if p else None for p in result.paths]


def test_pexels_one_clip_per_sentence_never_repeated_right_shape_first(tmp_path):
    with FakePexels2() as server:
        s = settings(tmp_path, pexels_api_key="px-key", pexels_base_url=server.url)
        result = run("pexels", s, search_terms=[["octopus heart"], [], []])
        assert result.source == "pexels" and result.note is None
        assert [p["source"] for p in result.per_sentence] == ["pexels"] * 3
        names = [p.name for p in result.paths]
        assert len(set(names)) == 3 and all(p.exists() and p.suffix == ".mp4" for p in result.paths)
        # Portrait long enough first, then the short portrait one, then the landscape one.
        assert served(server, result, "pexels") == [
            "/files/v13-hd.mp4",
            "/files/v12-hd.mp4",
            "/files/v11-hd.mp4",
        ]
        # The script's own terms when it has them, else words of the sentence.
        assert server.queries("/videos/search") == ["octopus heart", "blood blue", "octopus hearts"]
        searches = [r for r in server.requests if r["path"].startswith("/videos/search")]
        assert all(r["authorization"] == "px-key" for r in searches)
        assert all(r["query"]["orientation"] == ["portrait"] for r in searches)
        assert "pexels clip for 'octopus heart'" in result.per_sentence[0]["note"]

        calls, downloads = server.api_calls, server.downloads
        again = run("pexels", s, search_terms=[["octopus heart"], [], []])
        assert again.paths == result.paths
        assert (server.api_calls, server.downloads) == (calls, downloads)  # all from the cache


def test_pexels_photos_when_the_clips_are_used_up(tmp_path):
    with FakePexels2() as server:
        s = settings(tmp_path, pexels_api_key="k", pexels_base_url=server.url)
        result = run(
            "pexels", s, sentences=SENTENCES + ["Blue blood carries copper."], aspect="16:9"
        )
        assert result.source == "pexels"
        assert [p.suffix for p in result.paths] == [".mp4", ".mp4", ".mp4", ".jpg"]
        files = served(server, result, "pexels")
        assert files[0] == "/files/v11-hd.mp4"  # landscape first for 16:9
        assert files[-1] == "/files/p21-l.jpg"  # the landscape photo size
        assert all(
            r["query"]["orientation"] == ["landscape"]
            for r in server.requests
            if "search" in r["path"]
        )


def test_pixabay_clips_and_images(tmp_path):
    with FakePixabay() as server:
        s = settings(tmp_path, pixabay_api_key="pb-key", pixabay_base_url=server.url)
        result = run("pixabay", s)
        assert result.source == "pixabay"
        # portrait clip (its 720 px wide file), then the landscape clip, then the image
        assert served(server, result, "pixabay") == [
            "/files/x32-medium.mp4",
            "/files/x31-medium.mp4",
            "/files/i41.jpg",
        ]
        api = [r for r in server.requests if r["path"].startswith("/api/")]
        assert all(r["query"]["key"] == ["pb-key"] for r in api)
        images = [r for r in api if urlparse(r["path"]).path == "/api/"]
        assert images and images[0]["query"]["orientation"] == ["vertical"]
        assert [p.suffix for p in result.paths] == [".mp4", ".mp4", ".jpg"]


@pytest.mark.parametrize(
    "mode, note",
    [
        ("empty", "pexels: nothing new for 'octopuses hearts', 'octopus hearts'"),
        ("401", "pexels: the API key was rejected (HTTP 401)"),
        ("500", "pexels: HTTP 500"),
    ],
)
def test_pexels_failures_fall_back_to_the_icons_look(tmp_path, mode, note):
    with FakePexels2(mode=mode) as server:
        s = settings(tmp_path, pexels_api_key="k", pexels_base_url=server.url)
        result = run("auto", s)
        if mode != "empty":
            assert server.api_calls == 1  # a source that failed is not asked again in this video
    assert result.source == "icons" and result.paths == [None] * 3
    assert result.note.startswith(note)
    assert result.per_sentence[0]["source"] == "icons"
    assert result.per_sentence[0]["note"].startswith(f"{note} -> ")


def test_no_key_means_no_request(tmp_path):
    with FakePexels2() as server:
        result = run("auto", settings(tmp_path, pexels_base_url=server.url))
    assert result.note.startswith("no stock or image API key (PEXELS_API_KEY")
    assert server.requests == [] and result.source == "icons"


def test_unreachable_server(tmp_path):
    with FakePexels2() as server:
        url = server.url
    result = run("pexels", settings(tmp_path, pexels_api_key="k", pexels_base_url=url))
    assert result.note.startswith("pexels: unreachable (ConnectError)")


def test_keywords():
    assert keywords("Why do octopuses have three hearts?") == "octopuses hearts"
    assert keywords("Follow for more.", "bees and honey", vague=TEMPLATE_WORDS) == "bees honey"
    assert keywords("Follow for more.", "bees and honey") == "follow"  # no filler words given


def test_the_pipeline_searches_without_the_offline_writers_filler_words(tmp_path):
    """The topic's query leaves out the offline templates' words ("basics")."""
    from pipeline import Pipeline
    from reelsmith.request import CreateRequest
    from reelsmith.script.text import Script

    script = Script("Octopus", ["Octopuses have three hearts."], search_terms=[["octopus heart"]])
    with FakePexels2(modes=["empty", "empty"]) as server:  # nothing for the script's own term
        s = settings(tmp_path, pexels_api_key="k", pexels_base_url=server.url)
        result = Pipeline(s).visuals(CreateRequest(topic="the basics of octopus"), script)
    assert server.queries("/videos/search") == ["octopus heart", "octopus"]
    assert result.per_sentence[0]["note"] == "pexels clip for 'octopus'"


def test_pipeline_uses_pexels_and_says_when_it_cannot(tmp_path):
    from pipeline import Pipeline
    from reelsmith.core.settings import RenderSettings
    from reelsmith.request import CreateRequest
    from tests.helpers.media import corner_colour, probe

    small = RenderSettings(width=180, height=320, preset="veryfast")
    request = CreateRequest(topic="octopus", script="Blue blood. Three hearts.")
    with FakePexels2() as server:
        s = Settings.build(
            pexels_api_key="k",
            pexels_base_url=server.url,
            data_dir=tmp_path,
            cache_dir=tmp_path / "cache",
            render=small,
        )
        result = Pipeline(s).run(request, tmp_path / "v.mp4")
    assert result["visuals"] == "pexels" and probe(tmp_path / "v.mp4").width == 180
    assert [p["source"] for p in result["visuals_per_sentence"]] == ["pexels", "pexels"]
    r, g, b = corner_colour(tmp_path / "v.mp4", 1.0)
    assert b > 150 and r < 80  # the (blue) stock clip is the background
    with FakePexels2(mode="401") as server:
        s = s.with_(pexels_api_key="bad", pexels_base_url=server.url, cache_dir=tmp_path / "c2")
        result = Pipeline(s).run(request, tmp_path / "w.mp4")
    assert result["visuals"] == "icons" and "rejected" in result["visuals_note"]
    assert (tmp_path / "w.mp4").exists()
