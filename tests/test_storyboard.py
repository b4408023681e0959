"""Scenes, the storyboard, review and approve: real pipeline runs at 270x480,
media from a local HTTP server, stock from the fake Pexels server."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import create_app
from reelsmith.core import netguard
from reelsmith.core.exceptions import UnsafeURL
from reelsmith.tasks.retention import expire_outputs
from reelsmith.visuals import scenes as scenes_module
from reelsmith.visuals.scenes import media_suffix
from tests.helpers import make_settings, poll
from tests.helpers.fake_visuals import FakeImages, FakePexels2, png
from tests.helpers.media import corner_colour, probe
from tests.helpers.servers import solid_clip_mp4

RED, BLUE = (220, 30, 30), (30, 40, 220)


class MediaServer:
    """A loopback server of fixed files: /blue.png, /clip.mp4, /junk.png (text)."""

    def __init__(self):
        files = {
            "/blue.png": png(BLUE, (90, 160)),
            "/clip.mp4": solid_clip_mp4("0x1e50dc", 1.0),
            "/junk.png": b"this is not a picture" * 10,
        }
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(handler):
                self.hits.append(handler.path)
                body = files.get(handler.path)
                handler.send_response(200 if body else 404)
                handler.send_header("Content-Length", str(len(body or b"")))
                handler.end_headers()
                handler.wfile.write(body or b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def media():
    server = MediaServer()
    yield server
    server.close()


def _app(tmp_path, **overrides):
    return create_app({"SETTINGS": make_settings(tmp_path, **overrides), "TESTING": True})


@pytest.mark.parametrize(
    "scenes, field, words",
    [
        ([{"text": "One."}, {"text": "Two."}, {"text": "  "}], "scenes[2].text", "required"),
        ([{"text": "x" * 401}], "scenes[0].text", "too long"),
        ([{"text": "a"}] * 31, "scenes", "at most 30"),
        ([{"text": "a", "visual": {"url": "ftp://x/y.png"}}], "scenes[0].visual.url", "http"),
        ([{"text": "a", "visual": {"source": "nope"}}], "scenes[0].visual.source", "one of"),
        ([{"text": "a", "visual": {"upload": "a.png"}}], "scenes[0].visual.upload", "a.png"),
        ([{"text": "a", "look": 1}], "scenes[0].look", "not a scene field"),
    ],
)
def test_bad_scenes_are_a_400_naming_the_scene_field(tmp_path, scenes, field, words):
    app = create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False})
    reply = app.test_client().post("/api/create", json={"scenes": scenes})
    assert reply.status_code == 400, reply.get_json()
    assert reply.get_json()["field"] == field and words in reply.get_json()["error"]


def test_a_loopback_media_url_is_refused_unless_private_urls_are_allowed(tmp_path, media):
    body = {"scenes": [{"text": "Blue.", "visual": {"url": f"{media.url}/blue.png"}}]}
    app = create_app({"SETTINGS": make_settings(tmp_path / "a"), "START_WORKERS": False})
    reply = app.test_client().post("/api/create", json=body)
    assert reply.status_code == 400
    assert reply.get_json()["field"] == "scenes[0].visual.url"
    assert "loopback" in reply.get_json()["error"]
    assert "ALLOW_PRIVATE_URLS" in reply.get_json()["error"]
    with pytest.raises(UnsafeURL):  # and at download time, on the address connected to
        netguard.fetch(f"{media.url}/blue.png", allow_private=False, max_bytes=10**6)
    assert media.hits == []
    app = create_app(
        {"SETTINGS": make_settings(tmp_path / "b", allow_private_urls=True), "START_WORKERS": False}
    )
    assert app.test_client().post("/api/create", json=body).status_code == 202
    assert netguard.fetch(f"{media.url}/blue.png", True, 10**6)[:4] == b"\x89PNG"
    with pytest.raises(OSError, match="over"):
        netguard.fetch(f"{media.url}/clip.mp4", True, max_bytes=100)


def test_create_with_scenes_renders_each_scene_over_its_own_visual(tmp_path, media):
    """An upload, stock search words (fake Pexels) and a media URL, one per
    scene: each scene's frames show its own picture."""
    with FakePexels2() as pexels:
        app = _app(
            tmp_path,
            allow_private_urls=True,
            pexels_api_key="k",
            pexels_base_url=pexels.url,
        )
        client = app.test_client()
        buf = io.BytesIO(png(RED, (90, 160)))
        scenes = [
            {"text": "My own red picture comes first.", "visual": {"upload": "mine.png"}},
            {"text": "Then a clip of the deep sea.", "visual": {"query": "octopus heart"}},
            {"text": "And a blue picture from a link.", "visual": {"url": f"{media.url}/blue.png"}},
        ]
        try:
            reply = client.post(
                "/api/create",
                content_type="multipart/form-data",
                data={"scenes": json.dumps(scenes), "backgrounds": [(buf, "mine.png")]},
            )
            assert reply.status_code == 202, reply.get_json()
            task = poll(client, reply.get_json()["task_id"], timeout=240)
        finally:
            app.extensions["reelsmith"].shutdown(30)
        assert task["status"] == "done", task
        assert "octopus heart" in pexels.queries("/videos/search")
    result = task["result"]
    assert result["sentences"] == [s["text"] for s in scenes]
    assert [p["source"] for p in result["visuals_per_sentence"]] == ["upload", "pexels", "url"]
    path = tmp_path / "out.mp4"
    path.write_bytes(client.get(task["links"]["video"]).get_data())
    assert probe(path).duration == pytest.approx(result["duration"], abs=0.15)
    captions = result["captions"]
    first = corner_colour(path, (captions[0]["start"] + captions[0]["end"]) / 2)
    last = corner_colour(path, (captions[2]["start"] + captions[2]["end"]) / 2)
    assert first[0] > 150 and first[2] < 90, first  # red
    assert last[2] > 150 and last[0] < 90, last  # blue


def test_storyboard_answers_scenes_with_thumbnails_and_no_render(tmp_path, media):
    app = _app(tmp_path, allow_private_urls=True)
    client = app.test_client()
    try:
        reply = client.post("/api/storyboard", json={"topic": "why octopuses have three hearts"})
        assert reply.status_code == 200, reply.get_json()
        scenes = reply.get_json()["scenes"]
        assert 5 <= len(scenes) <= 8
        for scene in scenes:
            assert scene["text"] and scene["estimated_seconds"] > 0
            assert set(scene["visual"]) == {"source", "query", "prompt", "url", "upload"}
            assert scene["visual"]["source"] == "icons"
            thumb = client.get(scene["thumbnail_url"])
            assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
        assert not (tmp_path / "instance" / "videos").exists() or not any(
            (tmp_path / "instance" / "videos").glob("*.mp4")
        )
        # A media URL that is not a picture fails the visuals stage, naming it.
        bad = {"scenes": [{"text": "Junk.", "visual": {"url": f"{media.url}/junk.png"}}]}
        reply = client.post("/api/storyboard", json=bad)
        assert reply.status_code == 422
        assert reply.get_json()["stage"] == "visuals"
        assert "scenes[0].visual.url" in reply.get_json()["error"]
        assert "neither an image nor a video" in reply.get_json()["error"]
        clip = {"scenes": [{"text": "Clip.", "visual": {"url": f"{media.url}/clip.mp4"}}]}
        scene = client.post("/api/storyboard", json=clip).get_json()["scenes"][0]
        assert client.get(scene["thumbnail_url"]).data[:2] == b"\xff\xd8"
    finally:
        app.extensions["reelsmith"].shutdown(5)


def test_review_stops_at_the_storyboard_survives_a_restart_and_approve_renders(tmp_path):
    body = {
        "scenes": [
            {"text": "Octopuses have three hearts."},
            {"text": "Two pump blood to the gills."},
        ],
        "review": True,
    }
    app = _app(tmp_path)
    client = app.test_client()
    try:
        task_id = client.post("/api/create", json=body).get_json()["task_id"]
        task = poll(client, task_id, until=("review", "failed", "done"), timeout=120)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "review", task
    board = task["result"]["storyboard"]
    assert [s["text"] for s in board] == [s["text"] for s in body["scenes"]]
    assert client.get(board[1]["thumbnail_url"]).data[:2] == b"\xff\xd8"
    assert client.post(f"/api/task/{task_id}/approve", json={"bogus": 1}).status_code == 400

    app = _app(tmp_path)  # a restart: the task is still in review
    client = app.test_client()
    try:
        assert client.get(f"/api/task/{task_id}").get_json()["status"] == "review"
        edited = [board[0], {**board[1], "text": "The third one feeds the body."}]
        reply = client.post(f"/api/task/{task_id}/approve", json={"scenes": edited})
        assert reply.status_code == 202, reply.get_json()
        task = poll(client, task_id, timeout=240)
        again = client.post(f"/api/task/{task_id}/approve", json={})
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    assert task["result"]["sentences"] == [board[0]["text"], "The third one feeds the body."]
    assert again.status_code == 409


def test_a_task_left_in_review_expires_with_retention(tmp_path):
    app = _app(tmp_path)
    client = app.test_client()
    try:
        reply = client.post("/api/create", json={"scenes": [{"text": "Hi."}], "review": True})
        task_id = reply.get_json()["task_id"]
        assert poll(client, task_id, until=("review", "failed"))["status"] == "review"
        queue = app.extensions["reelsmith"]
        files = app.extensions["reelsmith_files"]
        assert expire_outputs(queue.store, files, max_age_seconds=3600) == 0
        assert expire_outputs(queue.store, files, max_age_seconds=0) == 1
        task = client.get(f"/api/task/{task_id}").get_json()
    finally:
        app.extensions["reelsmith"].shutdown(5)
    assert task["status"] == "canceled" and task["expired_at"]
    assert not (tmp_path / "instance" / "storyboards" / task_id).exists()


def test_a_scene_prompt_goes_to_the_image_model_and_search_words_to_stock(tmp_path):
    with FakeImages(colour=(30, 200, 60)) as images, FakePexels2() as pexels:
        app = _app(
            tmp_path,
            images_base_url=images.base_url,
            images_api_key="img-key",
            pexels_api_key="k",
            pexels_base_url=pexels.url,
        )
        scenes = [
            {"text": "A drawing.", "visual": {"prompt": "a cartoon octopus with three hearts"}},
            {"text": "A clip.", "visual": {"query": "coral reef", "source": "pexels"}},
        ]
        try:
            reply = app.test_client().post("/api/storyboard", json={"scenes": scenes})
        finally:
            app.extensions["reelsmith"].shutdown(5)
        assert reply.status_code == 200, reply.get_json()
        prompts = [r["body"]["prompt"] for r in images.requests if r["body"]]
        assert pexels.queries("/videos/search") == ["coral reef"]
    assert len(prompts) == 1 and "a cartoon octopus with three hearts" in prompts[0]
    board = reply.get_json()["scenes"]
    assert [s["visual"]["source"] for s in board] == ["ai", "pexels"]
    assert board[0]["visual"]["prompt"] == "a cartoon octopus with three hearts"


def test_media_urls_are_checked_by_content_and_duration(monkeypatch):
    assert media_suffix(png(BLUE)) == ".png"
    assert media_suffix(solid_clip_mp4("0x1e50dc", 1.0)) == ".mp4"
    with pytest.raises(ValueError, match="neither an image nor a video"):
        media_suffix(b"<html>not media</html>")
    monkeypatch.setattr(scenes_module, "MAX_MEDIA_URL_SECONDS", 0.5)
    with pytest.raises(ValueError, match="at most 0.5 s"):
        media_suffix(solid_clip_mp4("0x1e50dc", 1.0))


def test_a_media_url_that_fails_at_run_time_fails_the_visuals_stage(tmp_path, media):
    app = _app(tmp_path, allow_private_urls=True)
    client = app.test_client()
    scenes = [{"text": "Nothing here.", "visual": {"url": f"{media.url}/gone.png"}}]
    try:
        task_id = client.post("/api/create", json={"scenes": scenes}).get_json()["task_id"]
        task = poll(client, task_id, timeout=120)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "failed" and task["error"]["stage"] == "visuals", task
    assert task["error"]["message"].startswith("scenes[0].visual.url: could not use")
    assert "HTTP 404" in task["error"]["message"]


def test_a_scene_held_for_its_seconds_and_one_in_its_own_voice(tmp_path):
    """The request's voice is espeak; scene 0 is held 4.5 s, scene 1 names Piper."""
    app = _app(tmp_path)
    scenes = [
        {"text": "I am the robot.", "seconds": 4.5},
        {"text": "And I am Joe.", "voice": "piper"},
    ]
    try:
        client = app.test_client()
        bad = client.post(
            "/api/create", json={"scenes": [{"text": "x", "voice": "nope:who"}], "voice": "espeak"}
        )
        assert bad.status_code == 400 and bad.get_json()["field"] == "scenes[0].voice"
        reply = client.post("/api/create", json={"scenes": scenes, "voice": "espeak"})
        assert reply.status_code == 202, reply.get_json()
        task = poll(client, reply.get_json()["task_id"], timeout=240)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    first, second = task["result"]["captions"]
    assert first["end"] < 2.5  # the voice is short: the scene holds after it
    assert 4.5 <= second["start"] < 4.5 + 1 / 30 + 0.001
    words = [[w["text"] for w in c["words"]] for c in task["result"]["captions"]]
    assert words == [["I", "am", "the", "robot."], ["And", "I", "am", "Joe."]]
    # Which voice said what: the voice cache holds each clip under its engine.
    from cache import Cache
    from reelsmith.voice.synthesizer import SpeechSynthesizer

    settings = make_settings(tmp_path)
    voices = SpeechSynthesizer(settings, Cache(settings.storage.cache_dir))

    def said_by(engine: str, text: str) -> bool:
        voice = voices.engines[engine].voice_for("en")
        return voices.cache.get(voices.cache_key(engine, text, "en", voice)) is not None

    assert said_by("espeak", "I am the robot.") and not said_by("piper", "I am the robot.")
    assert said_by("piper", "And I am Joe.") and not said_by("espeak", "And I am Joe.")
