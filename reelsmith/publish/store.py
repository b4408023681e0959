"""The publications, in their own SQLite file (DATA_DIR/publications.db): each
with its status, progress, link and the upload session a restart resumes."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATUSES = ("queued", "uploading", "published", "failed")
UNFINISHED = ("queued", "uploading")
PUBLIC = ("id", "platform", "account", "status", "progress", "url", "remote_id", "error", "notes")

SCHEMA = """
CREATE TABLE IF NOT EXISTS publications (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    account TEXT,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    url TEXT,
    remote_id TEXT,
    error TEXT,
    notes TEXT NOT NULL DEFAULT '[]',
    request TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    session TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS publications_task ON publications (task_id, created_at);
"""
JSON_COLUMNS = ("notes", "request", "meta", "session")


@dataclass
class Publication:
    task_id: str
    platform: str
    request: dict  # PublishRequest, as JSON
    meta: dict  # the video's title, description and hashtags when asked
    account: str | None = None  # "as whom", when known
    status: str = "queued"
    progress: float = 0.0
    url: str | None = None
    remote_id: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what went differently, said plainly
    session: dict = field(default_factory=dict)  # the platform's upload session (no tokens)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)

    def public(self) -> dict:
        """What the API shows: never the session or the request's internals."""
        return {name: getattr(self, name) for name in PUBLIC}


class PublicationStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def add(self, pub: Publication) -> Publication:
        row = _row(pub)
        with self._lock:
            self._db.execute(
                f"INSERT INTO publications ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
        return pub

    def update(self, pub_id: str, **changes) -> Publication:
        row = {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in changes.items()}
        with self._lock:
            self._db.execute(
                f"UPDATE publications SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?",
                [*row.values(), pub_id],
            )
        return self.get(pub_id)

    def get(self, pub_id: str) -> Publication | None:
        found = self._select("WHERE id = ?", pub_id)
        return found[0] if found else None

    def for_task(self, task_id: str) -> list[Publication]:
        """A task's publications in request order, oldest first."""
        return self._select("WHERE task_id = ? ORDER BY created_at, rowid", task_id)

    def unfinished(self) -> list[Publication]:
        return self._select("WHERE status IN (?, ?) ORDER BY created_at, rowid", *UNFINISHED)

    def already(self, task_id: str, platform: str, account: str | None) -> Publication | None:
        """A publication of this task to this account that did not fail."""
        for pub in self.for_task(task_id):
            if pub.platform == platform and pub.account == account and pub.status != "failed":
                return pub
        return None

    def _select(self, where: str, *args) -> list[Publication]:
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM publications {where}", args)
            names = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        return [
            Publication(
                **{n: json.loads(v) if n in JSON_COLUMNS else v for n, v in zip(names, rows_)}
            )
            for rows_ in rows
        ]

    def close(self) -> None:
        self._db.close()


def _row(pub: Publication) -> dict:
    return {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in asdict(pub).items()}
