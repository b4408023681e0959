"""`flask publish` and `flask connect` against the HTTPS fakes."""

from __future__ import annotations

import os
import stat
import threading
from urllib.parse import parse_qs, urlsplit

import httpx

from app import create_app
from reelsmith.publish.accounts import Accounts
from reelsmith.publish.oauth import connect_tiktok
from tests.helpers import poll, publishing
from tests.helpers.fake_platforms import TIKTOK_TOKEN, digest
from tests.helpers.publishing import RESULT, publish_settings

clip, tls, youtube, tiktok = publishing.clip, publishing.tls, publishing.youtube, publishing.tiktok


def app_with_a_video(settings, clip):
    import shutil

    from reelsmith.core.storage import Files

    files = Files.from_settings(settings)

    def render(task, report):
        shutil.copy(clip[0], files.output_path(task.id))
        shutil.copy(clip[1], files.output_path(task.id, ".jpg"))
        return dict(RESULT)

    app = create_app({"SETTINGS": settings, "RUNNER": render, "TESTING": True})
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "octopus"}).get_json()["task_id"]
    assert poll(client, task_id)["status"] == "done"
    return app, task_id


def test_flask_publish_uploads_in_the_foreground(tmp_path, tls, clip, youtube):
    app, task_id = app_with_a_video(publish_settings(tmp_path, tls, youtube=youtube), clip)
    runner = app.test_cli_runner()
    args = ["publish", task_id, "--to", "youtube", "--privacy", "private"]
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0 and "--not-for-kids" in refused.output
    result = runner.invoke(args=[*args, "--not-for-kids"])
    assert result.exit_code == 0, result.output
    assert f"published: https://www.youtube.com/watch?v={youtube.video_id}" in result.output
    assert youtube.metadata["status"]["privacyStatus"] == "private"
    assert youtube.metadata["status"]["selfDeclaredMadeForKids"] is False
    assert digest(youtube.received) == digest(clip[0])
    again = runner.invoke(args=[*args, "--not-for-kids"])
    assert again.exit_code != 0 and "--force" in again.output
    app.extensions["reelsmith"].shutdown(5)


def test_connect_tiktok_with_pkce_stores_the_token_privately(tmp_path, tls, tiktok):
    settings = publish_settings(
        tmp_path,
        tls,
        tiktok=tiktok,
        tiktok_access_token=None,
        tiktok_client_key="ck",
        tiktok_client_secret="cs",
    )
    accounts = Accounts(settings)

    def browser(line):  # the user signs in: TikTok redirects to the loopback with a code
        url = urlsplit(line.split(": ", 1)[1])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        tiktok.challenge = query["code_challenge"]
        assert query["code_challenge_method"] == "S256" and "video.upload" in query["scope"]
        callback = f"{query['redirect_uri']}?code=the-code&state={query['state']}"
        threading.Thread(target=httpx.get, args=(callback,), daemon=True).start()

    name = connect_tiktok(settings, accounts, open_browser=False, say=browser, timeout=10)
    assert name == "tiktok tester"
    stored = accounts.stored("tiktok")
    assert stored["access_token"] == TIKTOK_TOKEN and stored["account"] == "tiktok tester"
    assert stat.S_IMODE(os.stat(accounts.path("tiktok")).st_mode) == 0o600
    assert tiktok.token_requests[0]["code_verifier"]  # the verifier went to the token endpoint
    assert accounts.source("tiktok") == "stored"


def test_an_expired_tiktok_token_is_refreshed(tmp_path, tls, clip, tiktok):
    settings = publish_settings(
        tmp_path,
        tls,
        tiktok=tiktok,
        tiktok_access_token=None,
        tiktok_client_key="ck",
        tiktok_client_secret="cs",
    )
    accounts = Accounts(settings)
    accounts.save(
        "tiktok",
        {"access_token": "act.old", "refresh_token": "rft.test", "expires_at": 0, "account": "me"},
    )
    app, task_id = app_with_a_video(settings, clip)
    result = app.test_cli_runner().invoke(args=["publish", task_id, "--to", "tiktok"])
    assert result.exit_code == 0, result.output
    assert tiktok.token_requests[0]["grant_type"] == "refresh_token"
    assert accounts.stored("tiktok")["access_token"] == TIKTOK_TOKEN
    app.extensions["reelsmith"].shutdown(5)


def test_connect_youtube_runs_googles_installed_app_flow(tmp_path, tls, youtube, monkeypatch):
    import webbrowser

    from reelsmith.publish.oauth import connect_youtube

    settings = publish_settings(
        tmp_path,
        tls,
        youtube=youtube,
        youtube_credentials=None,
        youtube_client_id="test-client.apps.googleusercontent.com",
        youtube_client_secret="test-secret",
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))  # requests-oauthlib's token call
    asked = []

    class Browser:  # the user signs in: Google redirects to the loopback with a code
        def open(self, url, **kwargs):
            query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            asked.append(query)
            callback = f"{query['redirect_uri']}?code=the-code&state={query['state']}"
            threading.Thread(target=httpx.get, args=(callback,), daemon=True).start()

    monkeypatch.setattr(webbrowser, "get", lambda *a: Browser())
    accounts = Accounts(settings)
    name = connect_youtube(settings, accounts, token_uri=f"{youtube.url}/token")
    assert name == "Test Channel"
    query = asked[0]
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert "youtube.upload" in query["scope"] and query["access_type"] == "offline"
    stored = accounts.stored("youtube")
    assert stored["refresh_token"] and stored["account"] == "Test Channel"
    assert stat.S_IMODE(os.stat(accounts.path("youtube")).st_mode) == 0o600
