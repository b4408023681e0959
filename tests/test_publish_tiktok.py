"""TikTok: the Content Posting API against an HTTPS fake."""

from __future__ import annotations

import os

from reelsmith.publish.request import PublishRequest
from reelsmith.publish.runner import Publisher
from reelsmith.publish.tiktok import MB, chunk_plan
from tests.helpers import publishing
from tests.helpers.fake_platforms import TIKTOK_TOKEN, FakeTikTok, digest
from tests.helpers.publishing import RESULT, finished_task, publish_settings

clip, tls, tiktok = publishing.clip, publishing.tls, publishing.tiktok  # the fixtures


def run(settings, files, task_id, ask):
    pub = Publisher(settings, files, sleep=lambda s: None)
    return pub, pub.run(pub.submit(task_id, RESULT, PublishRequest.parse(ask), enqueue=False).id)


def test_chunks_follow_tiktoks_rules():
    assert chunk_plan(3 * MB, 8) == (3 * MB, 1)  # under 5 MB: one chunk
    assert chunk_plan(23 * MB, 8) == (8 * MB, 2)  # the last chunk takes the rest (7 MB more)
    assert chunk_plan(23 * MB, 1) == (5 * MB, 4)  # at least 5 MB
    assert chunk_plan(300 * MB, 100) == (64 * MB, 4)  # at most 64 MB


def test_a_draft_goes_to_the_inbox_by_default(tmp_path, tls, clip, tiktok):
    settings = publish_settings(tmp_path, tls, tiktok=tiktok)
    files, task_id = finished_task(settings, clip)
    _, done = run(settings, files, task_id, {"platform": "tiktok"})
    assert done.status == "published", done.error
    path, body = tiktok.inits[0]
    assert path == "/v2/post/publish/inbox/video/init/"
    size = clip[0].stat().st_size
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size,
        "total_chunk_count": 1,
    }
    assert tiktok.chunks == [f"bytes 0-{size - 1}/{size}"]
    assert digest(tiktok.received) == digest(clip[0])
    assert done.remote_id == tiktok.publish_id and done.account == "tiktok tester"
    assert any("inbox" in note for note in done.notes) and tiktok.polls == 2


def test_a_chunked_upload_resends_a_chunk_after_a_503(tmp_path, tls, clip):
    big = tmp_path / "big.mp4"  # 12 MB: two chunks of 5 MB, the last one 7 MB
    big.write_bytes(clip[0].read_bytes() + os.urandom(12 * MB - clip[0].stat().st_size))
    with FakeTikTok(tls, tmp_path, fail_chunk=1) as fake:
        settings = publish_settings(tmp_path, tls, tiktok=fake, publish_chunk_mb=5)
        files, task_id = finished_task(settings, (big, clip[1]))
        _, done = run(settings, files, task_id, {"platform": "tiktok"})
    assert done.status == "published", done.error
    size = 12 * MB
    assert fake.inits[0][1]["source_info"]["total_chunk_count"] == 2
    assert fake.chunks == [f"bytes 0-{5 * MB - 1}/{size}", f"bytes {5 * MB}-{size - 1}/{size}"]
    assert fake.failed == 1 and digest(fake.received) == digest(big)


def test_a_direct_post_from_an_unaudited_app_is_refused_plainly(tmp_path, tls, clip):
    with FakeTikTok(tls, tmp_path, mode="unaudited") as fake:
        settings = publish_settings(tmp_path, tls, tiktok=fake)
        files, task_id = finished_task(settings, clip)
        _, done = run(
            settings, files, task_id, {"platform": "tiktok", "direct": True, "privacy": "public"}
        )
    assert done.status == "failed"
    assert "unaudited_client_can_only_post_to_private_accounts" in done.error
    assert "private account" in done.error and "inbox" in done.error


def test_a_direct_post_when_asked(tmp_path, tls, clip, tiktok):
    settings = publish_settings(tmp_path, tls, tiktok=tiktok)
    files, task_id = finished_task(settings, clip)
    _, done = run(settings, files, task_id, {"platform": "tiktok", "direct": True})
    assert done.status == "published"
    path, body = tiktok.inits[0]
    assert path == "/v2/post/publish/video/init/"
    assert (
        body["post_info"]["privacy_level"] == "SELF_ONLY" and body["post_info"]["is_aigc"] is True
    )
    assert done.url == "https://www.tiktok.com/video/7301"


def test_a_revoked_token_names_the_connect_command(tmp_path, tls, clip):
    with FakeTikTok(tls, tmp_path, mode="revoked") as fake:
        settings = publish_settings(tmp_path, tls, tiktok=fake)
        files, task_id = finished_task(settings, clip)
        pub, done = run(settings, files, task_id, {"platform": "tiktok"})
    assert done.status == "failed"
    assert "access_token_invalid" in done.error and "flask --app app connect tiktok" in done.error
    assert done.account is None and "could not tell which account" in done.notes[0]
    assert TIKTOK_TOKEN not in str(pub.publications(task_id))
