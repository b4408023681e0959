"""Where outputs, uploads and temporary files live: the one owner of every path.

Two backends behind one small interface, picked by ``STORAGE_URL``:

- ``LocalStorage`` (the default, ``DATA_DIR``; or ``STORAGE_URL=/a/shared/mount``
  or ``file:///a/shared/mount``): a folder. Outputs are published by rename,
  so a reader never sees half a file.
- ``S3Storage`` (``STORAGE_URL=s3://bucket/prefix``, ``S3_ENDPOINT_URL`` for
  MinIO, R2 and others): boto3. An object appears only once its upload has
  completed, so publishing after the render is atomic too.

Names are relative and built here only: ``videos/<task id><suffix>`` for
outputs, ``uploads/<generated name>`` for uploads. Files whose name starts
with a dot are temporary and never listed.

``Files``, built once from the settings, holds one machine's paths (the
DATA_DIR folders, temporary files, the free-space check) and moves uploads
and outputs between them and the storage.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from reelsmith.core import disk
from reelsmith.core.exceptions import ConfigError, StorageUnavailable

OUTPUT_SUFFIXES = (".mp4", ".srt", ".jpg")  # what a finished render publishes (common.DOWNLOADS)


def output_name(task_id: str, suffix: str) -> str:
    return f"videos/{task_id}{suffix}"


def upload_name(name: str) -> str:
    return f"uploads/{Path(name).name}"


class Storage(Protocol):
    url: str

    def check(self) -> None: ...  # raises StorageUnavailable
    def publish(self, local_path: Path, name: str) -> None: ...  # atomic: all or nothing
    def exists(self, name: str) -> bool: ...
    def delete(self, name: str) -> None: ...
    def fetch(self, name: str, dest: Path) -> Path: ...  # a local copy to read
    def list(self, prefix: str = "") -> list[str]: ...  # finished names only
    def local_path(self, name: str) -> Path | None: ...  # None where not a file
    def open_stream(self, name: str, chunk: int = 1 << 20) -> Iterator[bytes]: ...
    def presigned_url(self, name: str, expires: int = 300) -> str | None: ...
    def modified_before(self, prefix: str, when: float) -> list[str]: ...


@dataclass
class LocalStorage:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root)
        self.url = str(self.root)

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage name {name!r} leaves the storage folder")
        return path

    def check(self) -> None:
        try:
            for sub in ("videos", "uploads"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            probe = self.root / "videos" / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot write to the storage folder {self.root}: {exc.strerror or exc}"
            ) from None

    def publish(self, local_path: Path, name: str) -> None:
        target = self._path(name)
        local_path = Path(local_path)
        if local_path.resolve() == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local_path, target)  # same file system: one rename
        except OSError:  # another mount: copy under a hidden name, then rename
            temp = target.parent / f".{target.name}.{uuid.uuid4().hex}.partial"
            shutil.copyfile(local_path, temp)
            os.replace(temp, target)
            local_path.unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def fetch(self, name: str, dest: Path) -> Path:
        source = self._path(name)
        dest = Path(dest)
        if source == dest.resolve():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        return dest

    def list(self, prefix: str = "") -> list[str]:
        folder = self._path(prefix) if prefix else self.root
        if not folder.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def local_path(self, name: str) -> Path | None:
        return self._path(name)

    def open_stream(self, name: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        with open(self._path(name), "rb") as handle:
            while data := handle.read(chunk):
                yield data

    def presigned_url(self, name: str, expires: int = 300) -> str | None:
        return None

    def modified_before(self, prefix: str, when: float) -> list[str]:
        return [n for n in self.list(prefix) if self._path(n).stat().st_mtime < when]


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3}),
        )

    def _key(self, name: str) -> str:
        if ".." in Path(name).parts:
            raise ValueError(f"storage name {name!r} leaves the storage prefix")
        return f"{self.prefix}/{name}" if self.prefix else name

    def _name(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            raise StorageUnavailable(
                f"cannot use storage {self.url}: {exc.response['Error'].get('Code')} "
                f"{exc.response['Error'].get('Message', '')}".strip()
            ) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"cannot reach storage {self.url}"
                f"{' at ' + self.endpoint_url if self.endpoint_url else ''}: "
                f"{exc}"
            ) from None

    def publish(self, local_path: Path, name: str) -> None:
        self.client.upload_file(str(local_path), self.bucket, self._key(name))
        Path(local_path).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
            return True
        except ClientError as exc:
            if exc.response["Error"].get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def fetch(self, name: str, dest: Path) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.partial"
        self.client.download_file(self.bucket, self._key(name), str(temp))
        os.replace(temp, dest)
        return dest

    def _objects(self, prefix: str):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            yield from page.get("Contents", [])

    def list(self, prefix: str = "") -> list[str]:
        return sorted(
            self._name(o["Key"])
            for o in self._objects(prefix)
            if not Path(o["Key"]).name.startswith(".")
        )

    def local_path(self, name: str) -> Path | None:
        return None

    def open_stream(self, name: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()

    def presigned_url(self, name: str, expires: int = 300) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(name)}, ExpiresIn=expires
        )

    def modified_before(self, prefix: str, when: float) -> list[str]:
        return [
            self._name(o["Key"])
            for o in self._objects(prefix)
            if o["LastModified"].timestamp() < when
        ]


def from_settings(settings) -> Storage:
    """The storage named by ``STORAGE_URL`` (default: the ``DATA_DIR`` folder)."""
    url = (getattr(settings.storage, "storage_url", None) or "").strip()
    if not url:
        return LocalStorage(settings.storage.data_dir)
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError("STORAGE_URL", f"{url!r} names no bucket (use s3://bucket/prefix)")
        return S3Storage(
            parsed.netloc, parsed.path, getattr(settings.storage, "s3_endpoint_url", None)
        )
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    if parsed.scheme == "":
        return LocalStorage(Path(url))
    raise ConfigError("STORAGE_URL", f"{url!r}: use a folder, file:///folder or s3://bucket/prefix")


class Files:
    """Every path of this machine's DATA_DIR, and the storage the outputs are
    published to: ``videos/`` (renders; with the default storage also the
    published outputs), ``uploads/`` (files sent with create requests) and
    the task database. Names starting with a dot are temporary."""

    SPACE_TRUSTED = 1.0  # seconds a passed free-space check is trusted for

    def __init__(self, data_dir: Path, storage: Storage):
        self.data_dir = Path(data_dir)
        self.storage = storage
        self.videos = self.data_dir / "videos"
        self.uploads = self.uploads_of(self.data_dir)
        self.task_db = self.data_dir / "tasks.sqlite3"
        # Outputs and uploads live elsewhere too (another folder, S3): copied there and back.
        self.shared = storage.local_path("videos") != self.videos.resolve()
        self._space_ok_until = 0.0

    @staticmethod
    def uploads_of(data_dir: Path) -> Path:
        """The uploads folder of ``data_dir`` (for a stage that needs no storage)."""
        return Path(data_dir) / "uploads"

    @classmethod
    def from_settings(cls, settings) -> Files:
        return cls(settings.storage.data_dir, from_settings(settings))

    def prepare(self) -> None:
        """At start: make the folders, and remove the temporary files a crash left."""
        for folder in (self.videos, self.uploads):
            folder.mkdir(parents=True, exist_ok=True)
        self.remove_temp_files()

    def output_path(self, task_id: str, suffix: str = ".mp4") -> Path:
        """Where a task's output is rendered on this machine."""
        return self.videos / f"{task_id}{suffix}"

    def upload_path(self, name: str) -> Path:
        return self.uploads / Path(name).name

    def remove_temp_files(self, task_id: str | None = None) -> None:
        """The temporary files and work folders of ``task_id`` (``.<id>.*``), or all of them."""
        for path in self.videos.glob(f".{task_id}.*" if task_id else ".*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def low_space(self, min_free_mb: float) -> float | None:
        """The free MB in DATA_DIR when below ``min_free_mb``, else None. An
        answer above it is trusted for SPACE_TRUSTED seconds."""
        if time.monotonic() < self._space_ok_until:
            return None
        free = disk.free_mb(self.data_dir)
        if free < min_free_mb:
            return free
        self._space_ok_until = time.monotonic() + self.SPACE_TRUSTED
        return None

    # -- segments -------------------------------------------------------------
    def segments_dir(self, root_id: str) -> Path:
        """The rendered scenes (segments) of a video and its revisions, named by
        the first task of the line (``segments/<root id>``), kept on this machine."""
        return self.data_dir / "segments" / Path(root_id).name

    def remove_segments_before(self, when: float) -> None:
        """The segments of every line of revisions not rendered since ``when``
        (epoch seconds): each render touches its folder, so a folder goes once
        the last task that rendered into it has expired. Storyboards' thumbnails
        (``storyboards/<id>``) older than ``when`` go too."""
        for folder in [*self.data_dir.glob("segments/*"), *self.data_dir.glob("storyboards/*")]:
            try:
                if folder.is_dir() and folder.stat().st_mtime < when:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass

    # -- uploads --------------------------------------------------------------
    def share_uploads(self, names: Iterable[str]) -> None:
        """Move uploads saved here into the storage, for a worker on another machine."""
        for name in names:
            local = self.upload_path(name)
            if self.shared and local.exists():
                self.storage.publish(local, upload_name(name))

    def fetch_uploads(self, names: Iterable[str]) -> None:
        """Copy uploads saved on another machine here from the storage."""
        for name in names:
            local = self.upload_path(name)
            if self.shared and not local.exists():
                self.storage.fetch(upload_name(name), local)

    def keep_uploads(self, names: Iterable[str], root_id: str) -> None:
        """A finished video's uploads, moved beside its line's segments
        (``segments/<root id>/media``) for its revisions, and gone with them."""
        names = list(names)
        for name in names:
            src = self.upload_path(name)
            if src.is_file():
                kept = self.segments_dir(root_id) / "media"
                kept.mkdir(parents=True, exist_ok=True)
                os.replace(src, kept / src.name)
        self.remove_uploads(names)  # what is left: the shared copies

    def restore_upload(self, name: str, root_id: str) -> str | None:
        """A kept upload of the line ``root_id`` copied back into uploads under
        a new name (returned), for a revision to use; None when it is gone."""
        kept = self.segments_dir(root_id) / "media" / Path(name).name
        if not kept.is_file():
            return None
        self.uploads.mkdir(parents=True, exist_ok=True)
        new = f"{uuid.uuid4().hex}{kept.suffix}"
        try:
            os.link(kept, self.uploads / new)  # the same file: no second copy on disk
        except OSError:
            shutil.copyfile(kept, self.uploads / new)
        return new

    def remove_uploads(self, names: Iterable[str]) -> None:
        for name in names:
            self.upload_path(name).unlink(missing_ok=True)
            if self.shared:
                self.storage.delete(upload_name(name))

    def remove_uploads_before(self, when: float) -> None:
        """Uploads no task will use any more (older than ``when``, epoch seconds)."""
        for name in self.storage.modified_before("uploads", when):
            self.storage.delete(name)

    # -- outputs --------------------------------------------------------------
    def publish_outputs(self, task_id: str) -> None:
        """Put a finished render's outputs in the storage (the mp4 last)."""
        if not self.shared:
            return
        for suffix in sorted(OUTPUT_SUFFIXES, key=lambda s: s == ".mp4"):
            local = self.output_path(task_id, suffix)
            if local.exists():
                self.storage.publish(local, output_name(task_id, suffix))

    def remove_outputs(self, task_id: str) -> None:
        for suffix in OUTPUT_SUFFIXES:
            self.storage.delete(output_name(task_id, suffix))
        shutil.rmtree(self.data_dir / "storyboards" / Path(task_id).name, ignore_errors=True)
