"""YouTube: the resumable upload against an HTTPS fake of the Data API v3."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from reelsmith.core.exceptions import AlreadyPublished, NotConnected
from reelsmith.publish.accounts import Accounts
from reelsmith.publish.request import PublishRequest
from reelsmith.publish.runner import Publisher
from tests.helpers import publishing
from tests.helpers.fake_platforms import GOOD_TOKEN, FakeYouTube, digest
from tests.helpers.publishing import RESULT, finished_task, publish_settings

clip, tls, youtube = publishing.clip, publishing.tls, publishing.youtube  # the fixtures

ASK = {"platform": "youtube", "privacy": "unlisted", "made_for_kids": False}


def publisher(settings, files, waits=None):
    return Publisher(settings, files, sleep=(waits.append if waits is not None else lambda s: None))


def test_a_503_midway_through_a_chunk_resumes_from_the_servers_range(tmp_path, tls, clip):
    with FakeYouTube(tls, tmp_path, fail_at=100_000) as fake:
        settings = publish_settings(tmp_path, tls, youtube=fake)
        files, task_id = finished_task(settings, clip)
        waits = []
        pub = publisher(settings, files, waits)
        added = pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False)
        done = pub.run(added.id)
        assert done.status == "published", done.error
        assert fake.failed == 1 and waits == [0.5]  # one 503, one wait of the first backoff
        assert digest(fake.received) == digest(clip[0])  # the bytes arrived identical
        assert ("PUT", "/upload/youtube/v3/videos") in [(m, p) for m, p, _ in fake.requests]
        asked = [
            h for m, _, h in fake.requests if h.get("Content-Range", "").startswith("bytes */")
        ]
        assert asked, "the client asked where to resume"
        assert done.remote_id == fake.video_id and done.url.endswith(fake.video_id)
        assert done.progress == 1.0 and done.account == "Test Channel"
        assert any("interrupted 1 time" in note for note in done.notes)
        assert fake.thumbnail == clip[1].read_bytes()


def test_the_snippet_and_status_say_what_was_asked(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    files, task_id = finished_task(settings, clip)
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    ask = {**ASK, "title": "Edited title", "tags": ["octopus"], "publish_at": when.isoformat()}
    pub = publisher(settings, files)
    done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ask), enqueue=False).id)
    assert done.status == "published"
    snippet, status = youtube.metadata["snippet"], youtube.metadata["status"]
    assert snippet["title"] == "Edited title" and snippet["tags"] == ["octopus"]
    assert snippet["description"] == "Why octopuses need three hearts.\n\n#octopus #ocean"
    assert status == {
        "privacyStatus": "private",  # until publishAt
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
        "publishAt": when.isoformat().replace("+00:00", "Z"),
    }


def test_a_quota_refusal_says_when_the_quota_resets(tmp_path, tls, clip):
    with FakeYouTube(tls, tmp_path, mode="quota") as fake:
        settings = publish_settings(tmp_path, tls, youtube=fake)
        files, task_id = finished_task(settings, clip)
        pub = publisher(settings, files)
        done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
    assert done.status == "failed"
    assert "quotaExceeded" in done.error and "midnight Pacific" in done.error


def test_a_revoked_token_names_the_connect_command(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    files, task_id = finished_task(settings, clip)
    pub = publisher(settings, files)
    added = pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False)
    youtube.revoked = True  # the 401 makes the client refresh; the refresh is refused too
    done = pub.run(added.id)
    assert done.status == "failed"
    assert "flask --app app connect youtube" in done.error and "invalid_grant" in done.error
    assert [p for _, p, _ in youtube.requests].count("/token") == 1


def test_locked_private_is_said_with_the_audit_form(tmp_path, tls, clip):
    with FakeYouTube(tls, tmp_path, mode="lock_private") as fake:
        settings = publish_settings(tmp_path, tls, youtube=fake)
        files, task_id = finished_task(settings, clip)
        pub = publisher(settings, files)
        done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
    assert done.status == "published"
    assert any("locked the video private" in n and "yt_api_form" in n for n in done.notes)


def test_the_same_account_twice_needs_force(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    files, task_id = finished_task(settings, clip)
    pub = publisher(settings, files)
    first = pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False)
    with pytest.raises(AlreadyPublished) as refused:
        pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False)
    assert refused.value.publication_id == first.id and "force" in refused.value.message
    again = pub.submit(task_id, RESULT, PublishRequest.parse({**ASK, "force": True}), enqueue=False)
    assert [p["id"] for p in pub.publications(task_id)] == [first.id, again.id]  # oldest first


def test_not_connected_names_the_command(tmp_path, tls, clip):
    settings = publish_settings(tmp_path, tls)
    files, task_id = finished_task(settings, clip)
    with pytest.raises(NotConnected, match="flask --app app connect youtube"):
        publisher(settings, files).submit(task_id, RESULT, PublishRequest.parse(ASK))


def test_a_failed_account_lookup_does_not_stop_the_publication(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    files, task_id = finished_task(settings, clip)
    pub = publisher(settings, files)
    pub.platforms["youtube"].whoami = lambda: 1 / 0
    done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
    assert done.status == "published" and done.account is None
    assert "could not tell which account" in done.notes[0] and "publishing anyway" in done.notes[0]


def test_a_restart_resumes_the_upload_session(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube)
    files, task_id = finished_task(settings, clip)
    first = publisher(settings, files)
    added = first.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False)
    # The first process sent one chunk, then stopped: its session URL is stored.
    platform = first.platforms["youtube"]
    session = {}
    url = platform._start(first.store.get(added.id), clip[0].stat().st_size)
    platform._put(
        url,
        {"Content-Range": f"bytes 0-{262143}/{clip[0].stat().st_size}"},
        clip[0].read_bytes()[:262144],
    )
    session.update(upload_url=url, size=clip[0].stat().st_size)
    first.store.update(added.id, status="uploading", session=session)
    first.store.close()
    second = publisher(settings, files)  # a new process: the same DATA_DIR
    second.start()
    try:
        from tests.helpers import wait_for

        done = wait_for(lambda: (p := second.store.get(added.id)).status == "published" and p)
    finally:
        second.stop(5)
    assert youtube.sessions == 1  # resumed, not started again
    assert digest(youtube.received) == digest(clip[0])
    assert done.remote_id == youtube.video_id


def test_stored_tokens_are_private_and_never_shown(tmp_path, tls, clip, youtube):
    settings = publish_settings(tmp_path, tls, youtube=youtube, youtube_credentials=None)
    accounts = Accounts(settings)
    accounts.save("youtube", {**youtube.credentials(), "account": "Test Channel"})
    mode = stat.S_IMODE(os.stat(accounts.path("youtube")).st_mode)
    assert mode == 0o600
    files, task_id = finished_task(settings, clip)
    pub = publisher(settings, files)
    done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
    assert done.status == "published" and done.account == "Test Channel"
    shown = json.dumps(pub.publications(task_id)) + json.dumps(accounts.status(pub.lookups()))
    assert GOOD_TOKEN not in shown and "refresh-token" not in shown and "test-secret" not in shown


def test_the_backoff_doubles_and_gives_up_plainly(tmp_path, tls, clip):
    with FakeYouTube(tls, tmp_path, fail_at=100_000, fail_times=3) as fake:
        settings = publish_settings(tmp_path, tls, youtube=fake)
        files, task_id = finished_task(settings, clip)
        waits = []
        pub = publisher(settings, files, waits)
        done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
        assert done.status == "published" and waits == [0.5, 1.0, 2.0]
        assert digest(fake.received) == digest(clip[0])
    with FakeYouTube(tls, tmp_path, fail_at=100_000, fail_times=9) as fake:
        settings = publish_settings(tmp_path / "again", tls, youtube=fake, publish_retries=2)
        files, task_id = finished_task(settings, clip)
        pub = publisher(settings, files)
        done = pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ASK), enqueue=False).id)
    assert done.status == "failed"
    assert done.error == "gave up after 2 tries: YouTube answered 503"
