"""Publishing over the HTTP API: POST /api/task/<id>/publish, the task's
publications, GET /api/accounts; against the HTTPS fakes."""

from __future__ import annotations

import logging
import shutil

import pytest

from app import create_app
from reelsmith.core.storage import Files
from tests.helpers import poll, publishing, wait_for
from tests.helpers.fake_platforms import GOOD_TOKEN, TIKTOK_TOKEN, digest
from tests.helpers.publishing import RESULT, publish_settings

clip, tls, youtube, tiktok = publishing.clip, publishing.tls, publishing.youtube, publishing.tiktok

ASK = {"platform": "youtube", "privacy": "public", "made_for_kids": False}


@pytest.fixture
def app(tmp_path, tls, clip, youtube, tiktok):
    settings = publish_settings(tmp_path, tls, youtube=youtube, tiktok=tiktok)
    files = Files.from_settings(settings)

    def render(task, report):  # a finished video: the real clip and its thumbnail
        shutil.copy(clip[0], files.output_path(task.id))
        shutil.copy(clip[1], files.output_path(task.id, ".jpg"))
        return dict(RESULT)

    app = create_app({"SETTINGS": settings, "RUNNER": render, "TESTING": True})
    yield app
    app.extensions["reelsmith_publisher"].stop(5)
    app.extensions["reelsmith"].shutdown(5)


def finished(client) -> str:
    task_id = client.post("/api/create", json={"topic": "octopus hearts"}).get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    return task_id


def published(client, task_id, count=1) -> list[dict]:
    def check():
        pubs = client.get(f"/api/task/{task_id}").get_json()["publications"]
        done = len(pubs) == count and all(p["status"] in ("published", "failed") for p in pubs)
        return pubs if done else None

    return wait_for(check, timeout=30)


def test_publish_answers_202_and_the_task_shows_the_publication(app, clip, youtube, tiktok, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    task_id = finished(client)
    reply = client.post(f"/api/task/{task_id}/publish", json=ASK)
    assert reply.status_code == 202, reply.get_json()
    first = reply.get_json()["publication_id"]
    second = client.post(f"/api/task/{task_id}/publish", json={"platform": "tiktok"})
    assert second.status_code == 202
    pubs = published(client, task_id, 2)
    assert [p["id"] for p in pubs] == [first, second.get_json()["publication_id"]]  # oldest first
    yt, tt = pubs
    assert yt["status"] == "published" and yt["platform"] == "youtube" and yt["progress"] == 1.0
    assert yt["remote_id"] == youtube.video_id and yt["url"].endswith(youtube.video_id)
    assert yt["account"] == "Test Channel" and tt["account"] == "tiktok tester"
    assert tt["status"] == "published" and tt["remote_id"] == tiktok.publish_id
    assert digest(youtube.received) == digest(clip[0]) == digest(tiktok.received)
    assert youtube.metadata["snippet"]["title"] == RESULT["title"]
    # tokens never in the task's JSON, its events, the accounts or the logs
    shown = [
        client.get(f"/api/task/{task_id}").get_data(as_text=True),
        client.get(f"/api/task/{task_id}/events").get_data(as_text=True),
        client.get("/api/tasks").get_data(as_text=True),
        client.get("/api/accounts").get_data(as_text=True),
        caplog.text,
    ]
    for text in shown:
        assert GOOD_TOKEN not in text and TIKTOK_TOKEN not in text and "refresh-token" not in text
    assert "HTTP Request: PUT" in caplog.text  # httpx logged the uploads...
    assert "upload_token=t" not in caplog.text and "upload_id=u1" not in caplog.text  # ...blanked


def test_made_for_kids_is_required_for_youtube(app):
    client = app.test_client()
    task_id = finished(client)
    reply = client.post(f"/api/task/{task_id}/publish", json={"platform": "youtube"})
    assert reply.status_code == 400
    assert (
        reply.get_json()["field"] == "made_for_kids"
        and "made_for_kids" in reply.get_json()["error"]
    )
    bad = client.post(f"/api/task/{task_id}/publish", json={**ASK, "privacy": "secret"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "privacy"


def test_the_same_account_twice_is_409_without_force(app):
    client = app.test_client()
    task_id = finished(client)
    assert client.post(f"/api/task/{task_id}/publish", json=ASK).status_code == 202
    again = client.post(f"/api/task/{task_id}/publish", json=ASK)
    assert again.status_code == 409 and again.get_json()["field"] == "force"
    forced = client.post(f"/api/task/{task_id}/publish", json={**ASK, "force": True})
    assert forced.status_code == 202
    assert len(published(client, task_id, 2)) == 2


def test_only_a_finished_video_is_published(app):
    client = app.test_client()
    missing = client.post("/api/task/" + "0" * 32 + "/publish", json=ASK)
    assert missing.status_code == 404


def test_accounts_say_who_is_connected(app):
    rows = app.test_client().get("/api/accounts").get_json()["accounts"]
    assert rows == [
        {
            "platform": "youtube",
            "connected": True,
            "source": "environment",
            "account": "Test Channel",
        },
        {
            "platform": "tiktok",
            "connected": True,
            "source": "environment",
            "account": "tiktok tester",
        },
    ]


def test_not_connected_is_400_naming_the_command(tmp_path, tls, clip):
    settings = publish_settings(tmp_path, tls)
    app = create_app({"SETTINGS": settings, "RUNNER": lambda t, r: {}, "TESTING": True})
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "x"}).get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    reply = client.post(f"/api/task/{task_id}/publish", json={"platform": "tiktok"})
    assert reply.status_code == 400 and reply.get_json()["field"] == "platform"
    assert "flask --app app connect tiktok" in reply.get_json()["error"]
    rows = client.get("/api/accounts").get_json()["accounts"]
    assert rows[0]["connected"] is False and rows[0]["connect"] == "flask --app app connect youtube"
    app.extensions["reelsmith"].shutdown(5)


def test_a_video_not_yet_done_is_409(tmp_path, tls, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    app = create_app({"SETTINGS": settings, "RUNNER": lambda t, r: {}, "START_WORKERS": False})
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "x"}).get_json()["task_id"]
    reply = client.post(f"/api/task/{task_id}/publish", json=ASK)
    assert reply.status_code == 409 and "queued, not done" in reply.get_json()["error"]
    assert client.get(f"/api/task/{task_id}").get_json()["publications"] == []


def test_the_mcp_tool_publishes_and_says_the_field_at_fault(app, youtube):
    import asyncio

    from mcp.server.mcpserver.exceptions import ToolError

    from reelsmith.web.mcp_server import build_server

    client = app.test_client()
    task_id = finished(client)
    server = build_server(app)
    with pytest.raises(ToolError, match="made_for_kids"):
        asyncio.run(server.call_tool("publish_video", {"task_id": task_id, "platform": "youtube"}))
    when = "2031-01-02T03:04:05+00:00"
    args = {"task_id": task_id, "platform": "youtube", "made_for_kids": True, "publish_at": when}
    asyncio.run(server.call_tool("publish_video", args))
    (pub,) = published(client, task_id)
    assert pub["status"] == "published"
    assert youtube.metadata["status"]["selfDeclaredMadeForKids"] is True
    assert youtube.metadata["status"]["publishAt"] == "2031-01-02T03:04:05Z"


def test_publish_on_create_publishes_once_the_video_is_done(app, youtube, clip):
    client = app.test_client()
    bad = client.post("/api/create", json={"topic": "x", "publish": [{"platform": "youtube"}]})
    assert bad.status_code == 400 and bad.get_json()["field"] == "publish[0].made_for_kids"
    asked = [ASK, {"platform": "tiktok", "direct": False}]
    created = client.post("/api/create", json={"topic": "octopus", "publish": asked})
    assert created.status_code == 202, created.get_json()
    task_id = created.get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    youtube_pub, tiktok_pub = published(client, task_id, 2)
    assert youtube_pub["platform"] == "youtube" and youtube_pub["status"] == "published"
    assert tiktok_pub["platform"] == "tiktok" and tiktok_pub["status"] == "published"
    assert digest(youtube.received) == digest(clip[0])
    stored = client.get(f"/api/task/{task_id}").get_json()["request"]["publish"]
    assert stored[0]["made_for_kids"] is False  # the request, as checked, no token in it


def test_a_revision_is_not_published_unless_asked_again(app, youtube):
    client = app.test_client()
    created = client.post(
        "/api/create", json={"script": "Tea is a leaf. People brew it.", "publish": [ASK]}
    )
    task_id = created.get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    published(client, task_id, 1)
    scenes = [{"text": "Tea is a leaf."}, {"text": "People brew it hot."}]
    revised = client.post(f"/api/task/{task_id}/revise", json={"scenes": scenes})
    assert revised.status_code == 202, revised.get_json()
    revision = revised.get_json()["task_id"]
    assert poll(client, revision)["status"] == "done"
    shown = client.get(f"/api/task/{revision}").get_json()
    assert shown["request"]["publish"] is None and shown["publications"] == []
