"""The SQLite task store under load: reads that never wait for a write,
counts kept by triggers, and the WAL checkpointed in the background."""

import sqlite3
import threading
import time

import pytest

from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.sqlite_store import CHECKPOINT_EVERY, WAL_LIMIT, SQLiteTaskStore


@pytest.fixture
def store(tmp_path):
    s = SQLiteTaskStore(tmp_path / "tasks.sqlite3")
    yield s
    s.close()


def add(store, n: int, prefix: str = "t") -> list[str]:
    ids = [f"{prefix}{i:031d}" for i in range(n)]
    for task_id in ids:
        store.add(Task(id=task_id, request=CreateRequest(topic=task_id)))
    return ids


def test_counts_follow_every_move_and_are_rebuilt_on_open(store, tmp_path):
    a, b, c = add(store, 3)
    assert store.claim_next().id == a
    store.transition(a, TaskStatus.DONE, finished_at=time.time())
    store.transition(b, TaskStatus.CANCELED, only_from=(TaskStatus.QUEUED,))
    store.transition(b, TaskStatus.QUEUED, only_from=(TaskStatus.RUNNING,))  # refused: no change
    store.record(c, "an event, same status", stage="queued")
    counts = {s: store.count(s) for s in TaskStatus}
    assert counts == {
        TaskStatus.QUEUED: 1,
        TaskStatus.RUNNING: 0,
        TaskStatus.DONE: 1,
        TaskStatus.FAILED: 0,
        TaskStatus.CANCELED: 1,
        TaskStatus.REVIEW: 0,
    }
    store.close()

    raw = sqlite3.connect(tmp_path / "tasks.sqlite3")  # counts gone wrong (or an older file)
    raw.execute("UPDATE task_counts SET n = 99")
    raw.commit()
    raw.close()
    again = SQLiteTaskStore(tmp_path / "tasks.sqlite3")
    assert again.count(TaskStatus.QUEUED) == 1 and again.count(TaskStatus.DONE) == 1
    again.close()


def test_a_database_from_before_takes_up_where_it_was(tmp_path):
    """A tasks.sqlite3 written by the previous release (no event columns, no
    counts, no triggers) keeps its tasks and its history."""
    path = tmp_path / "tasks.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
            request TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL, started_at REAL, finished_at REAL, error_stage TEXT,
            error_message TEXT, result TEXT, expired_at REAL);
        CREATE TABLE task_events (task_id TEXT NOT NULL, at REAL NOT NULL,
            status TEXT NOT NULL, message TEXT);
        INSERT INTO tasks (id, request, status, stage, created_at)
            VALUES ('old', '{"topic": "tea"}', 'queued', 'queued', 1.0);
        INSERT INTO task_events VALUES ('old', 1.0, 'queued', 'created');
        """
    )
    old.close()
    store = SQLiteTaskStore(path)
    try:
        assert store.count(TaskStatus.QUEUED) == 1
        claimed = store.claim_next()
        assert claimed.id == "old" and claimed.request.topic == "tea" and claimed.attempts == 1
        store.transition("old", TaskStatus.DONE, message="finished", finished_at=time.time())
        assert [e["message"] for e in store.events("old")] == ["created", "started", "finished"]
        assert store.count(TaskStatus.DONE) == 1 and store.recent_durations() != []
    finally:
        store.close()


def test_queue_positions_of_some_tasks_at_one_moment(store):
    ids = add(store, 4)
    store.claim_next()  # ids[0] runs
    assert store.queue_positions([ids[3], ids[0], ids[1], "nope"]) == {ids[1]: 1, ids[3]: 3}
    assert store.queue_positions([]) == {}


def test_reads_never_wait_for_a_write(store, tmp_path):
    """Another connection holds SQLite's write lock, so the store's next
    write waits (up to its busy timeout); reads from other threads answer
    at once meanwhile."""
    (task_id,) = add(store, 1)
    blocker = sqlite3.connect(tmp_path / "tasks.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    writing = threading.Thread(target=lambda: add(store, 1, prefix="w"))
    writing.start()
    try:
        time.sleep(0.2)  # the write is waiting now
        assert writing.is_alive()
        assert store.get(task_id).id == task_id
        assert store.count(TaskStatus.QUEUED) == 1
        assert [e["status"] for e in store.events(task_id)] == ["queued"]
        # The write still waits (up to its 10 s busy timeout): the reads did not wait
        # behind it, or it would have ended first.
        assert writing.is_alive()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        writing.join(10)
    assert store.count(TaskStatus.QUEUED) == 2  # and the write went through after


def test_the_wal_is_checkpointed_in_the_background(store, tmp_path):
    """The writer never checkpoints (no commit waits for one); the background
    checkpointer keeps the WAL from growing with the writes: it starts over
    after a pause, and at the latest once it is WAL_LIMIT frames."""
    page = sqlite3.connect(tmp_path / "tasks.sqlite3").execute("PRAGMA page_size").fetchone()[0]

    def frames() -> float:
        return (tmp_path / "tasks.sqlite3-wal").stat().st_size / (page + 24)

    add(store, CHECKPOINT_EVERY, prefix="a")
    one_round = frames()
    for n in range(30):
        add(store, CHECKPOINT_EVERY, prefix=f"{n:02d}")
        time.sleep(0.01)
    assert 30 * one_round > 2 * WAL_LIMIT  # what it would be without
    assert frames() < WAL_LIMIT + 2 * one_round
