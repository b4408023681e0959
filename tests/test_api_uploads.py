"""Uploads through the API: checked, stored under generated names, removed when done."""

import io
from pathlib import Path

import pytest
from PIL import Image

from app import create_app
from tests.helpers import make_settings, poll
from tests.helpers.media import corner_colour, make_tone


@pytest.fixture
def app(tmp_path):
    """An app whose tasks stay queued (no workers), so their uploads stay too."""
    app = create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False})
    yield app
    app.extensions["reelsmith"].shutdown(5)


@pytest.fixture
def client(app):
    return app.test_client()


def _png_bytes(colour=(10, 200, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, "PNG")
    return buf.getvalue()


def test_uploads_are_checked_and_stored_under_generated_names(client, app, tmp_path):
    wav = make_tone(tmp_path / "bed.wav", seconds=1.0).read_bytes()
    resp = client.post(
        "/api/create",
        content_type="multipart/form-data",
        data={
            "topic": "tea",
            "music": (io.BytesIO(wav), "../../evil name.wav"),
            "backgrounds": [
                (io.BytesIO(_png_bytes()), "a.png"),
                (io.BytesIO(_png_bytes()), "b.PNG"),
            ],
        },
    )
    assert resp.status_code == 202, resp.get_json()
    req = client.get(resp.get_json()["status_url"]).get_json()["request"]
    uploads = tmp_path / "instance" / "uploads"
    stored = sorted(p.name for p in uploads.iterdir())
    assert sorted([req["music"], *req["backgrounds"]]) == stored
    assert req["music"].endswith(".wav") and "evil" not in req["music"]
    assert all(len(Path(n).stem) == 32 for n in stored)


def test_canceling_a_queued_task_removes_its_uploads(tmp_path):
    app = create_app({"SETTINGS": make_settings(tmp_path), "START_WORKERS": False, "TESTING": True})
    client = app.test_client()
    resp = client.post(
        "/api/create",
        content_type="multipart/form-data",
        data={"topic": "tea", "backgrounds": [(io.BytesIO(_png_bytes()), "a.png")]},
    )
    assert resp.status_code == 202, resp.get_json()
    uploads = tmp_path / "instance" / "uploads"
    assert len(list(uploads.iterdir())) == 1
    body = client.post(f"/api/task/{resp.get_json()['task_id']}/cancel").get_json()
    assert body["status"] == "canceled"
    assert list(uploads.iterdir()) == []


@pytest.mark.parametrize(
    "field, name, content, message",
    [
        ("backgrounds", "notes.txt", b"hello", ".txt files are not accepted"),
        ("backgrounds", "fake.png", b"not really a png", "not a readable image or video"),
        ("music", "song.wav", b"RIFF....not audio", "not a readable audio file"),
        ("music", "picture.png", None, ".png files are not accepted"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_kept(
    client, tmp_path, field, name, content, message
):
    body = content if content is not None else _png_bytes()
    resp = client.post(
        "/api/create",
        content_type="multipart/form-data",
        data={"topic": "tea", field: (io.BytesIO(body), name)},
    )
    assert resp.status_code == 400
    assert message in resp.get_json()["error"] and resp.get_json()["field"] == field
    uploads = tmp_path / "instance" / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_upload_over_the_size_limit_is_413(tmp_path):
    settings = make_settings(tmp_path, max_upload_mb=0.01)
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    resp = app.test_client().post(
        "/api/create",
        content_type="multipart/form-data",
        data={"topic": "t", "backgrounds": (io.BytesIO(b"x" * 20_000), "a.png")},
    )
    assert resp.status_code == 413 and resp.get_json()["error"]


def test_end_to_end_with_uploaded_background_and_music(tmp_path):
    app = create_app({"SETTINGS": make_settings(tmp_path)})
    client = app.test_client()
    try:
        resp = client.post(
            "/api/create",
            content_type="multipart/form-data",
            data={
                "topic": "green tea",
                "script": "Green tea is calm. It grows on hills.",
                "music": (io.BytesIO(make_tone(tmp_path / "m.mp3").read_bytes()), "m.mp3"),
                "backgrounds": (io.BytesIO(_png_bytes((20, 200, 40))), "green.png"),
            },
        )
        assert resp.status_code == 202
        task = poll(client, resp.get_json()["task_id"], timeout=120)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    video = tmp_path / "instance" / "videos" / f"{task['id']}.mp4"
    r, g, b = corner_colour(video, 1.0)
    assert g > 150 and r < 80 and b < 90  # the uploaded image is the background
    assert list((tmp_path / "instance" / "uploads").iterdir()) == []  # removed once done


def test_music_bed_from_settings_and_a_missing_one(tmp_path):
    from pipeline import Pipeline
    from reelsmith.request import CreateRequest

    bed = make_tone(tmp_path / "bed.mp3")
    pipeline = Pipeline(make_settings(tmp_path, music_path=bed))
    assert pipeline.music(CreateRequest(topic="tea")) == bed
    uploaded = CreateRequest(topic="tea", music="upload.mp3")  # an upload wins over MUSIC_PATH
    assert pipeline.music(uploaded) == tmp_path / "instance" / "uploads" / "upload.mp3"
    plain = Pipeline(make_settings(tmp_path))  # no MUSIC_PATH: auto is a bundled track
    assert plain.music(CreateRequest(topic="tea")).suffix == ".opus"
    assert plain.music(CreateRequest(topic="tea", music="none")) is None
    assert pipeline.music(CreateRequest(topic="tea", music="calm")).parent.name == "calm"

    # MUSIC_PATH naming no file fails the task at the render stage, saying so.
    app = create_app({"SETTINGS": make_settings(tmp_path, music_path=tmp_path / "gone.mp3")})
    client = app.test_client()
    try:
        resp = client.post("/api/create", json={"topic": "tea", "script": "Tea is a leaf."})
        task = poll(client, resp.get_json()["task_id"], timeout=120)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "failed"
    assert task["error"] == {
        "stage": "render",
        "message": "the music bed in MUSIC_PATH does not exist: gone.mp3",
    }
    assert list((tmp_path / "instance" / "videos").iterdir()) == []
