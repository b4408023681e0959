"""The HTTP API: validation, status, downloads, and one real end-to-end render."""

import threading
import time

import pytest

from app import create_app
from reelsmith.core.settings import RenderSettings
from tests.helpers import make_settings, poll
from tests.helpers.media import probe


@pytest.fixture
def gate():
    return threading.Event()


@pytest.fixture
def app(tmp_path, gate):
    """An app whose runner waits for ``gate`` and then returns a fixed summary."""

    def runner(task, report):
        report("render", 0.5)
        if not gate.wait(10):
            raise TimeoutError("gate never opened")
        return {"title": task.request.topic}

    app = create_app({"SETTINGS": make_settings(tmp_path), "RUNNER": runner, "TESTING": True})
    yield app
    gate.set()
    app.extensions["reelsmith"].shutdown(5)


@pytest.fixture
def client(app):
    return app.test_client()


def test_index_serves_the_page_and_local_assets(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="create-form"' in html and "offline writer" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_the_page_takes_its_limits_from_the_constants_the_api_checks(tmp_path):
    from html.parser import HTMLParser

    from reelsmith.request import CreateRequest

    settings = make_settings(tmp_path, max_topic_chars=77, max_script_chars=999)
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    fields = CreateRequest.field_schemas(settings)
    inputs = {}

    class Inputs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag in ("input", "textarea") and "id" in attrs:
                inputs[attrs["id"]] = attrs

    Inputs().feed(app.test_client().get("/").get_data(as_text=True))
    assert inputs["topic"]["maxlength"] == "77" and inputs["script"]["maxlength"] == "999"
    assert inputs["language"]["maxlength"] == str(fields["language"]["maxLength"]) == "12"
    assert (inputs["length"]["min"], inputs["length"]["max"]) == ("10", "600")
    assert (fields["length"]["minimum"], fields["length"]["maximum"]) == (10, 600)
    assert float(inputs["transition_seconds"]["max"]) == fields["transition_seconds"]["maximum"]
    for kind, upload in CreateRequest.upload_fields().items():
        assert set(inputs[kind]["accept"].split(",")) == upload.suffixes
    client = app.test_client()  # and the API refuses one character more than the page allows
    reply = client.post("/api/create", json={"topic": "x" * 78})
    assert reply.status_code == 400 and reply.get_json()["field"] == "topic"


def test_create_answers_at_once_with_202(client, gate):
    resp = client.post("/api/create", json={"topic": "why octopuses have three hearts"})
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["status_url"] == f"/api/task/{body['task_id']}"
    running = poll(client, body["task_id"], until=("running",))  # gate still closed
    assert running["stage"] == "render" and running["progress"] == 0.5
    gate.set()
    done = poll(client, body["task_id"])
    assert done["status"] == "done" and done["result"] == {
        "title": "why octopuses have three hearts"
    }
    assert set(done["links"]) == {"video", "subtitles", "thumbnail"}


def test_form_encoded_create_works(client, gate):
    gate.set()
    resp = client.post(
        "/api/create",
        data={
            "topic": "tea",
            "length": "20",
            "voice": "espeak",
            "transition": "slide",
            "transition_seconds": "0.8",
        },
    )
    assert resp.status_code == 202
    task = client.get(resp.get_json()["status_url"]).get_json()
    assert task["request"]["length"] == 20 and task["request"]["voice"] == "espeak"
    assert (task["request"]["transition"], task["request"]["transition_seconds"]) == ("slide", 0.8)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "topic"),
        ({"topic": "   "}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ({"topic": 42}, "topic"),
        ({"topic": "ok", "voice": "robot"}, "voice"),
        ({"topic": "ok", "length": "long"}, "length"),
        ({"topic": "ok", "length": 5}, "length"),
        ({"topic": "ok", "length": True}, "length"),
        ({"topic": "ok", "language": "../../etc"}, "language"),
        ({"topic": "ok", "script": "x" * 10001}, "script"),
        ({"topic": "ok", "aspect": "4:3"}, "aspect"),
        ({"topic": "ok", "webhook_url": "file:///etc/passwd"}, "webhook_url"),
        ({"topic": "ok", "transition": "wipe"}, "transition"),
        (
            {"topic": "ok", "transition": "crossfade", "transition_seconds": 2.5},
            "transition_seconds",
        ),
    ],
)
def test_bad_input_is_a_json_400_naming_the_field(client, app, body, field):
    resp = client.post("/api/create", json=body)
    assert resp.status_code == 400
    data = resp.get_json()
    assert data["field"] == field and data["error"]
    assert app.extensions["reelsmith"].store.list() == []  # nothing queued


def test_malformed_json_and_non_object(client):
    resp = client.post("/api/create", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]
    resp = client.post("/api/create", json=["a", "list"])
    assert resp.status_code == 400


def test_oversize_body_is_413_json(client):
    resp = client.post("/api/create", json={"topic": "x", "script": "y" * 400_000})
    assert resp.status_code == 413
    assert "error" in resp.get_json()


def test_unknown_task_and_route_are_json_404(client):
    for url in ("/api/task/" + "0" * 32, "/api/task/../../etc/passwd", "/api/nope"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.is_json and resp.get_json()["error"]


def test_wrong_method_is_json_405(client):
    resp = client.get("/api/create")
    assert resp.status_code == 405 and resp.get_json()["error"]


def test_download_before_done_is_409(client):
    task_id = client.post("/api/create", json={"topic": "t"}).get_json()["task_id"]
    resp = client.get(f"/api/task/{task_id}/video")
    assert resp.status_code == 409 and "not done" in resp.get_json()["error"]
    assert client.get(f"/api/task/{task_id}/passwd").status_code == 404


def test_tasks_lists_newest_first_and_cancel(client):
    ids = [
        client.post("/api/create", json={"topic": f"t{i}"}).get_json()["task_id"] for i in range(3)
    ]
    listed = [t["id"] for t in client.get("/api/tasks").get_json()["tasks"]]
    assert listed == ids[::-1]
    canceled = client.post(f"/api/task/{ids[2]}/cancel").get_json()
    assert canceled["status"] == "canceled"
    events = client.get(f"/api/task/{ids[2]}/events").get_json()["events"]
    assert [e["status"] for e in events] == ["queued", "canceled"]


def test_full_queue_answers_503_with_retry_after(tmp_path):
    app = create_app(
        {
            "SETTINGS": make_settings(tmp_path, queue_size=1),
            "START_WORKERS": False,
            "RUNNER": lambda t, r: {},
        }
    )
    client = app.test_client()
    assert client.post("/api/create", json={"topic": "a"}).status_code == 202
    resp = client.post("/api/create", json={"topic": "b"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] and resp.get_json()["error"]


def test_voices_endpoint_lists_offline_engines(client):
    voices = client.get("/api/voices").get_json()["voices"]
    engines = {v["engine"] for v in voices}
    assert {"piper", "espeak"} <= engines


def test_failed_task_says_stage_and_why(tmp_path):
    from reelsmith.core.exceptions import VoiceError

    def runner(task, report):
        report("voice", 0.1)
        raise VoiceError("no engine speaks xx")

    app = create_app({"SETTINGS": make_settings(tmp_path), "RUNNER": runner})
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "a"}).get_json()["task_id"]
    body = poll(client, task_id)
    app.extensions["reelsmith"].shutdown(5)
    assert body["status"] == "failed"
    assert body["error"] == {"stage": "voice", "message": "no engine speaks xx"}
    assert "links" not in body


def test_end_to_end_topic_to_mp4_offline(tmp_path):
    """The real pipeline: offline writer, offline voice, real moviepy render."""
    app = create_app({"SETTINGS": make_settings(tmp_path)})
    client = app.test_client()
    try:
        resp = client.post("/api/create", json={"topic": "why octopuses have three hearts"})
        assert resp.status_code == 202
        task = poll(client, resp.get_json()["task_id"], timeout=240)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    result = task["result"]
    assert result["script_source"] == "offline" and result["voice_engine"] == "piper"
    assert 5 <= len(result["sentences"]) <= 8

    video = client.get(task["links"]["video"])
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    path = tmp_path / "video.mp4"
    path.write_bytes(video.get_data())
    info = probe(path)
    assert (info.width, info.height) == (270, 480)
    assert info.video.startswith("h264") and info.audio.startswith("aac")
    assert info.duration == pytest.approx(result["duration"], abs=0.15)
    assert result["captions"][-1]["end"] < result["duration"]

    srt = client.get(task["links"]["subtitles"]).get_data(as_text=True)
    assert srt.count("-->") == len(result["sentences"])
    thumb = client.get(task["links"]["thumbnail"])
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    # Downloads are named after the task, never a client-supplied path.
    attach = client.get(task["links"]["video"] + "?download=1")
    assert "attachment" in attach.headers["Content-Disposition"]
    videos_dir = tmp_path / "instance" / "videos"
    assert sorted(p.suffix for p in videos_dir.iterdir()) == [".jpg", ".mp4", ".srt"]


def test_retention_removes_old_outputs_and_says_so(tmp_path):
    from reelsmith.tasks.retention import expire_outputs

    app = create_app({"SETTINGS": make_settings(tmp_path), "RUNNER": lambda t, r: {"title": "x"}})
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "old"}).get_json()["task_id"]
    poll(client, task_id)
    app.extensions["reelsmith"].shutdown(5)
    videos = tmp_path / "instance" / "videos"
    for suffix in (".mp4", ".srt", ".jpg"):
        (videos / f"{task_id}{suffix}").write_bytes(b"data")
    store, files = app.extensions["reelsmith"].store, app.extensions["reelsmith_files"]
    assert expire_outputs(store, files, max_age_seconds=3600) == 0  # too recent
    assert expire_outputs(store, files, max_age_seconds=0) == 1
    assert list(videos.iterdir()) == []
    task = client.get(f"/api/task/{task_id}").get_json()
    assert task["status"] == "done" and task["expired_at"] and "links" not in task
    assert client.get(f"/api/task/{task_id}/video").status_code == 410
    assert (
        "retention" in client.get(f"/api/task/{task_id}/events").get_json()["events"][-1]["message"]
    )
    assert expire_outputs(store, files, max_age_seconds=0) == 0  # once only


def test_partial_files_from_a_crash_are_removed_at_start(tmp_path):
    videos = tmp_path / "instance" / "videos"
    videos.mkdir(parents=True)
    (videos / ".abc.partial.mp4").write_bytes(b"half a video")
    (videos / ".abc.work").mkdir()
    (videos / "keep.mp4").write_bytes(b"done")
    create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False})
    assert [p.name for p in videos.iterdir()] == ["keep.mp4"]


def test_api_token_is_required_when_set(tmp_path):
    app = create_app(
        {"SETTINGS": make_settings(tmp_path, api_token="s3cret"), "START_WORKERS": False}
    )
    client = app.test_client()
    assert client.get("/").status_code == 200  # the page itself asks for the token
    denied = client.get("/api/tasks")
    assert denied.status_code == 401 and "token" in denied.get_json()["error"]
    assert client.get("/api/tasks", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/api/create", json={"topic": "t"}).status_code == 401
    assert client.get("/api/tasks", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    client.set_cookie("reelsmith_token", "s3cret")  # what the page sets, so <video> can load
    assert client.post("/api/create", json={"topic": "t"}).status_code == 202


def test_refuses_a_public_address_without_a_token(monkeypatch, capsys):
    from app import main

    monkeypatch.delenv("API_TOKEN", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--host", "0.0.0.0", "--port", "5999"])
    assert info.value.code == 2
    assert "without API_TOKEN" in capsys.readouterr().err


def test_cancel_while_the_pictures_are_fetched(tmp_path):
    """A cancel in the visuals stage stops the image requests not yet sent
    (each image takes 1 s here): it used to wait for all six."""
    from tests.helpers.fake_visuals import FakeImages

    script = "One fact. Two facts. Three facts. Four facts. Five facts. Six facts."
    with FakeImages(mode="slow", delay=1.0) as images:
        app = create_app({"SETTINGS": make_settings(tmp_path, images_base_url=images.base_url)})
        client = app.test_client()
        try:
            task_id = client.post(
                "/api/create", json={"topic": "facts", "script": script, "visuals": "ai"}
            ).get_json()["task_id"]
            deadline = time.monotonic() + 60
            while images.api_calls < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.get(f"/api/task/{task_id}").get_json()["stage"] == "visuals"
            client.post(f"/api/task/{task_id}/cancel")
            task = poll(client, task_id, timeout=30)
        finally:
            app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "canceled" and images.api_calls < 6
    assert list((tmp_path / "instance" / "videos").iterdir()) == []


def test_cancel_mid_render_through_the_api(tmp_path):
    """A real render, canceled while frames are being encoded: it stops
    mid-render (the poll below gives up after 10 s) and leaves no file behind."""
    settings = make_settings(tmp_path).with_(
        render=RenderSettings(width=540, height=960, preset="medium")
    )
    app = create_app({"SETTINGS": settings})
    client = app.test_client()
    try:
        task_id = client.post(
            "/api/create", json={"topic": "why octopuses have three hearts"}
        ).get_json()["task_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            task = client.get(f"/api/task/{task_id}").get_json()
            if task["stage"] == "render" and task["progress"] > 0.35:
                break
            time.sleep(0.02)
        assert task["status"] == "running" and task["eta_seconds"] is not None
        client.post(f"/api/task/{task_id}/cancel")
        task = poll(client, task_id, timeout=10)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "canceled" and 0.35 < task["progress"] < 0.98  # stopped mid-render
    assert list((tmp_path / "instance" / "videos").iterdir()) == []  # temp files removed too
    statuses = [e["status"] for e in client.get(f"/api/task/{task_id}/events").get_json()["events"]]
    assert statuses == ["queued", "running", "canceled"]
