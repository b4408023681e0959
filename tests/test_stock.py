"""Pexels stock footage against a local fake of its API, and the fallbacks."""
from urllib.parse import parse_qs, urlparse

import pytest

from config import Settings
from stock import StockFootage, keywords
from tests.servers import FakePexels

SENTENCES = ["Octopuses have three hearts.", "Their blood is blue.", "Follow for more."]


def stock(server, tmp_path, key="px-key") -> StockFootage:
    return StockFootage(Settings(pexels_api_key=key, pexels_base_url=server.url,
                                 cache_dir=tmp_path / "cache"))


def test_one_clip_per_sentence_downloaded_once(tmp_path):
    with FakePexels() as server:
        footage = stock(server, tmp_path)
        result = footage.for_sentences(SENTENCES, "octopus hearts")
        assert result.source == "pexels" and result.note is None
        assert len(result.paths) == 3 and all(p.exists() and p.suffix == ".mp4" for p in result.paths)
        searches = [r for r in server.requests if r["path"].startswith("/videos/search")]
        assert [parse_qs(urlparse(r["path"]).query)["query"][0] for r in searches] == [
            "octopuses hearts three", "blood blue", "octopus hearts"]  # the last has no content words
        assert all(r["authorization"] == "px-key" for r in searches)
        assert parse_qs(urlparse(searches[0]["path"]).query)["orientation"] == ["portrait"]
        assert server.hits("/files/hd.mp4") == 1  # the smallest file at least 720 px wide
        assert footage.downloads == 1             # one URL, downloaded once
        again = footage.for_sentences(SENTENCES, "octopus hearts")
        assert again.paths == result.paths and server.hits("/files/") == 1


def test_photos_when_there_are_no_videos(tmp_path):
    with FakePexels(mode="photos") as server:
        result = stock(server, tmp_path).for_sentences(SENTENCES[:1], "octopus")
    assert result.source == "pexels" and server.hits("/v1/search") == 1
    assert len(result.paths) == 1


@pytest.mark.parametrize("mode, note", [
    ("empty", "Pexels found nothing for 'octopus'"),
    ("401", "Pexels: the API key was rejected"),
    ("500", "Pexels: HTTP 500"),
])
def test_failures_fall_back_to_the_generated_background(tmp_path, mode, note):
    with FakePexels(mode=mode) as server:
        result = stock(server, tmp_path).for_sentences(SENTENCES, "octopus")
    assert result.source == "generated" and result.paths == []
    assert result.note.startswith(note)


def test_no_key_means_no_request(tmp_path):
    with FakePexels() as server:
        result = stock(server, tmp_path, key=None).for_sentences(SENTENCES, "octopus")
    assert result.note.startswith("no PEXELS_API_KEY") and server.requests == []


def test_unreachable_server(tmp_path):
    with FakePexels() as server:
        url = server.url
    footage = StockFootage(Settings(pexels_api_key="k", pexels_base_url=url, cache_dir=tmp_path))
    assert footage.for_sentences(SENTENCES, "x").note.startswith("Pexels unreachable")


def test_keywords():
    assert keywords("Why do octopuses have three hearts?") == "octopuses hearts three"
    assert keywords("Follow for more.", "bees and honey") == "bees honey"


def test_pipeline_uses_pexels_and_says_when_it_cannot(tmp_path):
    from pipeline import Pipeline
    from tasks import TaskRequest
    from tests.media import corner_colour, probe

    from config import RenderSettings

    small = RenderSettings(width=180, height=320, preset="veryfast")
    with FakePexels() as server:
        settings = Settings(pexels_api_key="k", pexels_base_url=server.url, data_dir=tmp_path,
                            cache_dir=tmp_path / "cache", render=small)
        result = Pipeline(settings).run(TaskRequest(topic="octopus", script="Blue blood. Three hearts."),
                                        tmp_path / "v.mp4")
    assert result["visuals"] == "pexels" and probe(tmp_path / "v.mp4").width == 180
    r, g, b = corner_colour(tmp_path / "v.mp4", 1.0)
    assert b > 150 and r < 80  # the (blue) stock clip is the background
    with FakePexels(mode="401") as server:
        settings = Settings(pexels_api_key="bad", pexels_base_url=server.url, data_dir=tmp_path,
                            cache_dir=tmp_path / "cache", render=small)
        result = Pipeline(settings).run(TaskRequest(topic="octopus", script="Blue blood. Three hearts."),
                                        tmp_path / "w.mp4")
    assert result["visuals"] == "generated" and "rejected" in result["visuals_note"]
    assert (tmp_path / "w.mp4").exists()
