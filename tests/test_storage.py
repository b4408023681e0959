"""storage.py: the local folder and S3 (boto3 against moto's server on loopback),
one machine's Files moving uploads and outputs to and from either, and
downloads through the API from either."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from reelsmith.core import storage as storage_mod
from reelsmith.core.exceptions import ConfigError, StorageUnavailable
from reelsmith.core.settings import Settings
from reelsmith.core.storage import Files, LocalStorage, S3Storage
from tests.helpers import free_port


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    import boto3

    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    bucket = f"reels-{time.time_ns()}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return S3Storage(bucket, "team/out", s3_endpoint)


@pytest.fixture
def local(tmp_path):
    return LocalStorage(tmp_path / "shared")


@pytest.fixture(params=["local", "s3"])
def any_storage(request):
    return request.getfixturevalue(request.param)


def test_publish_list_fetch_delete(any_storage, tmp_path):
    any_storage.check()
    source = tmp_path / "render.mp4"
    source.write_bytes(b"video bytes")
    name = storage_mod.output_name("a" * 32, ".mp4")
    assert not any_storage.exists(name)
    any_storage.publish(source, name)
    assert not source.exists()  # moved or uploaded, not left behind
    assert any_storage.exists(name)
    assert any_storage.list("videos") == [name]
    copy = any_storage.fetch(name, tmp_path / "worker" / "copy.mp4")
    assert copy.read_bytes() == b"video bytes"
    assert b"".join(any_storage.open_stream(name, chunk=4)) == b"video bytes"
    assert any_storage.modified_before("videos", time.time() + 60) == [name]
    assert any_storage.modified_before("videos", time.time() - 3600) == []
    Files(tmp_path / "machine", any_storage).remove_outputs("a" * 32)
    assert not any_storage.exists(name) and any_storage.list() == []


def test_temporary_names_are_never_listed(any_storage, tmp_path):
    for file_name in (".abc.mp4.partial", "abc.mp4"):
        (tmp_path / file_name).write_bytes(b"x")
        any_storage.publish(tmp_path / file_name, f"videos/{file_name}")
    assert any_storage.list("videos") == ["videos/abc.mp4"]


def test_names_cannot_leave_the_storage(any_storage, tmp_path):
    with pytest.raises(ValueError, match="leaves the storage"):
        any_storage.exists("../outside.mp4")


def test_local_publish_across_mounts_copies_under_a_hidden_name(local, tmp_path, monkeypatch):
    import os

    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 1:
            raise OSError(18, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(storage_mod.os, "replace", replace)
    (tmp_path / "v.mp4").write_bytes(b"abc")
    local.publish(tmp_path / "v.mp4", "videos/v.mp4")
    assert calls[1][0].startswith(".v.mp4.") and calls[1][1] == "v.mp4"
    assert (local.root / "videos" / "v.mp4").read_bytes() == b"abc"


def test_presigned_url_is_short_lived_and_works(s3, tmp_path):
    (tmp_path / "t.jpg").write_bytes(b"jpeg")
    s3.publish(tmp_path / "t.jpg", "videos/t.jpg")
    url = s3.presigned_url("videos/t.jpg", expires=60)
    assert "Expires=" in url or "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"jpeg"


def test_unreachable_or_missing_storage_says_which(s3_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(StorageUnavailable, match=r"cannot use storage s3://no-such-bucket"):
        S3Storage("no-such-bucket", "", s3_endpoint).check()
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StorageUnavailable, match=r"cannot reach storage s3://b at http://127"):
        S3Storage("b", "", closed).check()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageUnavailable, match="cannot write to the storage folder"):
        LocalStorage(blocker).check()


def test_storage_url_picks_the_backend_and_names_the_field(tmp_path):
    base = Settings.build(data_dir=tmp_path)
    assert storage_mod.from_settings(base) == LocalStorage(tmp_path)
    assert (
        storage_mod.from_settings(base.with_(storage_url=f"file://{tmp_path}/x")).root
        == tmp_path / "x"
    )
    s3 = storage_mod.from_settings(
        base.with_(storage_url="s3://bucket/a/b", s3_endpoint_url="http://127.0.0.1:9")
    )
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == ("bucket", "a/b", "http://127.0.0.1:9")
    for bad in ("s3://", "ftp://host/x"):
        with pytest.raises(ConfigError) as info:
            storage_mod.from_settings(base.with_(storage_url=bad))
        assert info.value.variable == "STORAGE_URL"


@pytest.mark.parametrize("presign", [False, True])
def test_downloads_come_from_s3_behind_the_token(s3, tmp_path, presign):
    from app import create_app
    from reelsmith.request import CreateRequest
    from reelsmith.tasks.model import Task, TaskStatus

    settings = Settings.build(
        data_dir=tmp_path / "web",
        cache_dir=tmp_path / "cache",
        workers=0,
        api_token="secret",
        storage_url=s3.url,
        s3_endpoint_url=s3.endpoint_url,
        storage_presign=presign,
    )
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    store = app.extensions["reelsmith"].store
    task = Task(id="b" * 32, request=CreateRequest(topic="t"))
    store.add(task)
    store.transition(task.id, TaskStatus.DONE, finished_at=time.time(), stage="done")
    (tmp_path / "out.srt").write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    s3.publish(tmp_path / "out.srt", storage_mod.output_name(task.id, ".srt"))
    client = app.test_client()
    assert client.get(f"/api/task/{task.id}/subtitles").status_code == 401
    auth = {"Authorization": "Bearer secret"}
    response = client.get(f"/api/task/{task.id}/subtitles?download=1", headers=auth)
    if presign:
        assert response.status_code == 302
        with urllib.request.urlopen(response.headers["Location"]) as resp:
            assert resp.read().endswith(b"hi\n")
    else:
        assert response.status_code == 200 and response.data.endswith(b"hi\n")
        assert "attachment" in response.headers["Content-Disposition"]
    assert client.get(f"/api/task/{task.id}/video", headers=auth).status_code == 410


def test_files_with_the_default_storage_keep_everything_in_place(tmp_path):
    files = Files(tmp_path / "data", LocalStorage(tmp_path / "data"))
    files.prepare()
    assert not files.shared
    assert files.videos.is_dir() and files.uploads.is_dir()
    files.upload_path("u.png").write_bytes(b"png")
    files.output_path("t", ".mp4").write_bytes(b"mp4")
    files.share_uploads(["u.png"])
    files.publish_outputs("t")
    assert files.upload_path("u.png").exists() and files.output_path("t").exists()
    files.remove_uploads(["u.png"])
    assert list(files.uploads.iterdir()) == []


def test_files_share_uploads_and_publish_outputs_through_shared_storage(any_storage, tmp_path):
    web = Files(tmp_path / "web", any_storage)
    worker = Files(tmp_path / "worker", any_storage)
    assert web.shared and worker.shared
    for machine in (web, worker):
        machine.prepare()
    web.upload_path("u.png").write_bytes(b"png")
    web.share_uploads(["u.png", "never-saved.png"])
    assert not web.upload_path("u.png").exists()  # moved before the task is queued
    worker.fetch_uploads(["u.png"])
    assert worker.upload_path("u.png").read_bytes() == b"png"

    published = []
    publish = any_storage.publish
    any_storage.publish = lambda path, name: (published.append(name), publish(path, name))
    for suffix in (".mp4", ".srt", ".jpg"):
        worker.output_path("t", suffix).write_bytes(suffix.encode())
    worker.publish_outputs("t")
    assert published[-1] == "videos/t.mp4" and len(published) == 3  # the video last
    assert not worker.output_path("t").exists()

    worker.remove_uploads(["u.png"])
    assert not worker.upload_path("u.png").exists()
    assert any_storage.list("uploads") == []
    worker.remove_outputs("t")
    assert any_storage.list("videos") == []


def test_temporary_files_of_one_task_or_all_are_removed(tmp_path):
    files = Files(tmp_path, LocalStorage(tmp_path))
    files.prepare()
    for name in (".a.partial.mp4", ".b.partial.mp4", "a.mp4"):
        (files.videos / name).write_bytes(b"x")
    (files.videos / ".a.voice").mkdir()
    files.remove_temp_files("a")
    assert sorted(p.name for p in files.videos.iterdir()) == [".b.partial.mp4", "a.mp4"]
    files.remove_temp_files()
    assert [p.name for p in files.videos.iterdir()] == ["a.mp4"]


def test_a_free_space_check_that_passed_is_trusted_for_a_second(tmp_path, monkeypatch):
    from reelsmith.core import disk

    asked, free = [], [600.0]
    monkeypatch.setattr(disk, "free_mb", lambda path: asked.append(path) or free[0])
    files = Files(tmp_path, LocalStorage(tmp_path))
    assert files.low_space(500) is None
    free[0] = 3.0
    assert files.low_space(500) is None and asked == [tmp_path]  # within the second: not asked
    time.sleep(Files.SPACE_TRUSTED)
    assert files.low_space(500) == 3.0
    free[0] = 600.0
    assert files.low_space(500) is None and len(asked) == 3  # a low answer is never trusted
