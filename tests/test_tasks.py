"""The task lifecycle, store and queue, with a small in-test runner."""

import threading
import time

import pytest

from reelsmith.core.exceptions import QueueFull, RenderError
from reelsmith.request import CreateRequest
from reelsmith.tasks.lifecycle import MAX_ATTEMPTS, PROGRESS_EVERY
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.queue import TaskQueue
from reelsmith.tasks.sqlite_store import SQLiteTaskStore
from tests.helpers import wait_for


@pytest.fixture
def store(tmp_path):
    s = SQLiteTaskStore(tmp_path / "tasks.sqlite3")
    yield s
    s.close()


def finished(store, task_id):
    task = store.get(task_id)
    return task if task.status.finished else None


def test_done_task_records_every_transition(store):
    def runner(task, report):
        report("script", 0.1)
        report("render", 0.5)
        return {"answer": task.request.topic.upper()}

    q = TaskQueue(store, runner)
    q.start()
    task = q.submit(CreateRequest(topic="octopus"))
    done = wait_for(lambda: finished(store, task.id))
    q.shutdown(5)
    assert done.status == TaskStatus.DONE
    assert done.result == {"answer": "OCTOPUS"}
    assert done.progress == 1.0 and done.attempts == 1
    assert done.started_at <= done.finished_at
    assert [e["status"] for e in store.events(task.id)] == ["queued", "running", "done"]


def test_progress_is_stored_at_each_stage_and_at_most_every_half_second(store):
    """A render reports every frame; the store gets each new stage at once and
    the frames' progress at most every PROGRESS_EVERY s (cancel is still
    checked at every report: test_cancel_queued_and_running)."""
    writes = []
    update = store.update_progress
    store.update_progress = lambda *args: (writes.append(args[1:]), update(*args))

    def runner(task, report):
        report("script", 0.02)
        report("voice", 0.10)
        started = time.monotonic()
        for frame in range(3000):  # about 1.5 s of frames
            report("render", 0.25 + 0.73 * frame / 3000)
            time.sleep(0.0005)
        return {"seconds": time.monotonic() - started}

    q = TaskQueue(store, runner)
    q.start()
    try:
        task = q.submit(CreateRequest(topic="octopus"))
        done = wait_for(lambda: finished(store, task.id))
    finally:
        q.shutdown(5)
    stages = [stage for stage, _ in writes]
    assert stages[:3] == ["script", "voice", "render"]  # each stage at once
    renders = stages.count("render")
    assert 2 <= renders <= done.result["seconds"] / PROGRESS_EVERY + 2  # not 3000 writes
    progress = [value for stage, value in writes if stage == "render"]
    assert progress == sorted(progress) and progress[-1] > 0.5


def test_failed_task_says_stage_and_reason(store):
    def runner(task, report):
        report("render", 0.3)
        raise RenderError("ffmpeg exploded")

    q = TaskQueue(store, runner)
    q.start()
    task = q.submit(CreateRequest(topic="x"))
    failed = wait_for(lambda: finished(store, task.id))
    q.shutdown(5)
    assert failed.status == TaskStatus.FAILED
    assert failed.to_dict()["error"] == {"stage": "render", "message": "ffmpeg exploded"}


def test_unexpected_exception_is_labelled_with_current_stage(store):
    def runner(task, report):
        report("voice", 0.2)
        raise KeyError("boom")

    q = TaskQueue(store, runner)
    q.start()
    task = q.submit(CreateRequest(topic="x"))
    failed = wait_for(lambda: finished(store, task.id))
    q.shutdown(5)
    assert failed.error_stage == "voice"
    assert "KeyError" in failed.error_message


def test_cancel_queued_and_running(store):
    started = threading.Event()

    def runner(task, report):
        started.set()
        for _ in range(500):
            report("render", 0.5)
            time.sleep(0.01)
        return {}

    q = TaskQueue(store, runner)
    q.start()
    running = q.submit(CreateRequest(topic="long"))
    queued = q.submit(CreateRequest(topic="waiting"))
    started.wait(5)
    assert q.cancel(queued.id).status == TaskStatus.CANCELED  # at once
    q.cancel(running.id)
    canceled = wait_for(lambda: finished(store, running.id), timeout=5)
    q.shutdown(5)
    assert canceled.status == TaskStatus.CANCELED
    assert [e["status"] for e in store.events(queued.id)] == ["queued", "canceled"]


def test_bounded_queue_refuses_when_full(store):
    q = TaskQueue(store, lambda t, r: {}, maxsize=2)  # workers not started
    q.submit(CreateRequest(topic="1"))
    q.submit(CreateRequest(topic="2"))
    with pytest.raises(QueueFull):
        q.submit(CreateRequest(topic="3"))
    assert len(store.list()) == 2  # the refused one was never stored


def test_restart_requeues_queued_and_interrupted_tasks_in_order(tmp_path):
    path = tmp_path / "tasks.sqlite3"
    first = SQLiteTaskStore(path)
    q1 = TaskQueue(first, lambda t, r: {})
    a = q1.submit(CreateRequest(topic="a"))
    b = q1.submit(CreateRequest(topic="b"))
    # Simulate a crash while "a" was running.
    first.transition(a.id, TaskStatus.RUNNING, attempts=1, stage="render")
    first.close()

    order = []
    second = SQLiteTaskStore(path)
    q2 = TaskQueue(second, lambda t, r: order.append(t.request.topic) or {})
    q2.start()
    wait_for(lambda: all(second.get(i).status == TaskStatus.DONE for i in (a.id, b.id)))
    q2.shutdown(5)
    assert order == ["a", "b"]
    assert second.get(a.id).attempts == 2
    statuses = [e["status"] for e in second.events(a.id)]
    assert statuses == ["queued", "running", "queued", "running", "done"]
    second.close()


def test_restart_runs_every_stored_task_even_beyond_the_queue_size(tmp_path):
    path = tmp_path / "tasks.sqlite3"
    first = SQLiteTaskStore(path)
    ids = [
        TaskQueue(first, lambda t, r: {}, maxsize=10).submit(CreateRequest(topic=str(i))).id
        for i in range(5)
    ]
    first.close()

    second = SQLiteTaskStore(path)
    q = TaskQueue(second, lambda t, r: {}, maxsize=2)
    q.start()
    wait_for(lambda: all(second.get(i).status == TaskStatus.DONE for i in ids))
    q.shutdown(5)
    second.close()


def test_two_workers_never_run_the_same_task(store):
    ran, lock = [], threading.Lock()

    def runner(task, report):
        with lock:
            ran.append(task.id)
        time.sleep(0.01)
        return {}

    q = TaskQueue(store, runner, workers=2)
    q.start()
    ids = [q.submit(CreateRequest(topic=str(i))).id for i in range(20)]
    wait_for(lambda: all(store.get(i).status == TaskStatus.DONE for i in ids))
    q.shutdown(5)
    assert sorted(ran) == sorted(ids)


def test_second_interruption_fails_the_task(tmp_path):
    store = SQLiteTaskStore(tmp_path / "t.sqlite3")
    task = Task(id="f" * 32, request=CreateRequest(topic="t"))
    store.add(task)
    store.transition(task.id, TaskStatus.RUNNING, attempts=MAX_ATTEMPTS, stage="render")
    q = TaskQueue(store, lambda t, r: {})
    q.start()
    q.shutdown(5)
    failed = store.get(task.id)
    assert failed.status == TaskStatus.FAILED
    assert failed.error_stage == "render" and "interrupted" in failed.error_message
    store.close()


def test_shutdown_refuses_new_work(store):
    q = TaskQueue(store, lambda t, r: {})
    q.start()
    assert q.shutdown(5) is True
    with pytest.raises(QueueFull):
        q.submit(CreateRequest(topic="late"))


def test_webhook_is_retried_until_delivered(store):
    from tests.helpers.servers import WebhookReceiver

    with WebhookReceiver(modes=["500", "500", "200"]) as hook:
        q = TaskQueue(store, lambda t, r: {"ok": True})
        q.webhooks.first_delay = 0.05
        q.webhooks.allow_private = True  # the receiver is on loopback
        q.start()
        task = q.submit(CreateRequest(topic="hook", webhook_url=hook.url + "/done"))
        wait_for(
            lambda: any("webhook delivered" in (e["message"] or "") for e in store.events(task.id))
        )
        q.shutdown(5)
    assert [r["mode"] for r in hook.requests] == ["500", "500", "200"]
    body = hook.requests[-1]["body"]
    assert body["id"] == task.id and body["status"] == "done" and body["result"] == {"ok": True}
    assert "attempt 3" in store.events(task.id)[-1]["message"]


def test_failed_webhook_never_fails_the_task(store):
    from tests.helpers.servers import WebhookReceiver

    with WebhookReceiver() as hook:
        dead_url = hook.url  # the server stops below: connections are refused
    q = TaskQueue(store, lambda t, r: {})
    q.webhooks.first_delay = 0.01
    q.webhooks.allow_private = True  # the receiver is on loopback
    q.start()
    task = q.submit(CreateRequest(topic="hook", webhook_url=dead_url))
    wait_for(lambda: any("webhook failed" in (e["message"] or "") for e in store.events(task.id)))
    q.shutdown(5)
    assert store.get(task.id).status == TaskStatus.DONE


def test_eta_is_derived_from_the_pace(store):
    task = Task(
        id="e" * 32,
        request=CreateRequest(topic="t"),
        status=TaskStatus.RUNNING,
        started_at=time.time() - 10,
        progress=0.25,
    )
    assert task.eta_seconds == pytest.approx(30, abs=0.5)
    assert task.to_dict()["eta_seconds"] == task.eta_seconds
    task.progress = 0.01
    assert task.eta_seconds is None
    task.status, task.progress = TaskStatus.DONE, 1.0
    assert task.eta_seconds is None


def test_shutdown_interrupts_a_long_task_and_queues_it_again(tmp_path):
    from reelsmith.core.exceptions import TaskCanceled

    path = tmp_path / "t.sqlite3"
    store = SQLiteTaskStore(path)
    started = threading.Event()
    cleaned = []

    def runner(task, report):
        started.set()
        try:
            while True:
                report("render", 0.5)
                time.sleep(0.01)
        except TaskCanceled:
            cleaned.append(task.id)  # the renderer removes its temp files here
            raise

    q = TaskQueue(store, runner)
    q.start()
    task = q.submit(CreateRequest(topic="long"))
    started.wait(5)
    assert q.shutdown(timeout=0.2) is True
    assert cleaned == [task.id]
    assert store.get(task.id).status == TaskStatus.QUEUED
    store.close()

    again = SQLiteTaskStore(path)
    q2 = TaskQueue(again, lambda t, r: {"second": True})
    q2.start()
    done = wait_for(lambda: finished(again, task.id))
    q2.shutdown(5)
    assert done.status == TaskStatus.DONE and done.attempts == 2
    messages = [e["message"] for e in again.events(task.id)]
    assert "interrupted by shutdown; will run again on start" in messages


def test_to_dict_has_every_stored_field_once_in_order():
    from dataclasses import fields

    task = Task(id="d" * 32, request=CreateRequest(topic="t"), error_message="x", error_stage="v")
    stored = [f.name for f in fields(Task) if f.name not in ("error_stage", "error_message")]
    expected = [n for n in stored if n != "queue_eta_seconds"] + ["eta_seconds", "error"]
    data = task.to_dict()
    assert list(data) == expected
    assert data["request"]["topic"] == "t" and data["error"] == {"stage": "v", "message": "x"}


def uploaded(tmp_path, name="u.png"):
    from reelsmith.core.storage import Files, LocalStorage

    files = Files(tmp_path / "data", LocalStorage(tmp_path / "data"))
    files.prepare()
    files.upload_path(name).write_bytes(b"png")
    return files, CreateRequest(topic="t", backgrounds=[name])


@pytest.mark.parametrize("outcome", ["done", "failed", "canceled"])
def test_a_task_that_ends_in_any_way_loses_its_uploads(store, tmp_path, outcome):
    files, request = uploaded(tmp_path)
    release = threading.Event()

    def runner(task, report):
        assert files.upload_path("u.png").exists()  # there while it runs
        release.wait(5)
        report("render", 0.5)
        if outcome == "failed":
            raise RenderError("no")
        return {}

    q = TaskQueue(store, runner, files=files)
    q.start()
    task = q.submit(request)
    if outcome == "canceled":
        wait_for(lambda: store.get(task.id).status == TaskStatus.RUNNING)
        q.cancel(task.id)
    release.set()
    ended = wait_for(lambda: finished(store, task.id))
    q.shutdown(5)
    assert ended.status.value == outcome
    assert list(files.uploads.iterdir()) == []


def test_an_interrupted_task_keeps_its_uploads_for_its_next_run(store, tmp_path):
    files, request = uploaded(tmp_path)
    started = threading.Event()

    def runner(task, report):
        started.set()
        while True:
            report("render", 0.5)
            time.sleep(0.01)

    q = TaskQueue(store, runner, files=files)
    q.start()
    task = q.submit(request)
    started.wait(5)
    q.shutdown(timeout=0.1)
    assert store.get(task.id).status == TaskStatus.QUEUED
    assert files.upload_path("u.png").exists()


def test_a_task_found_running_twice_fails_and_ends(store, tmp_path):
    """The lifecycle's recovery, as both engines use it ("its worker" is the
    distributed engine's wording)."""
    from reelsmith.tasks.lifecycle import Lifecycle

    files, request = uploaded(tmp_path)
    lifecycle = Lifecycle(store, files=files, stopped="its worker")
    task = lifecycle.admit(request, maxsize=10)
    assert lifecycle.claim(task.id).attempts == 1
    assert lifecycle.recover(store.get(task.id)) is True  # queued again, once
    assert lifecycle.claim().attempts == 2
    assert lifecycle.recover(store.get(task.id)) is False
    failed = store.get(task.id)
    assert failed.status == TaskStatus.FAILED
    assert (
        failed.error_message == "interrupted: its worker stopped twice while this task was running"
    )
    assert [e["message"] for e in store.events(task.id)] == [
        "created",
        "started",
        "re-queued after interruption",
        "started",
        "interrupted twice",
    ]
    assert list(files.uploads.iterdir()) == []


def test_running_a_task_fetches_its_uploads_and_publishes_only_a_finished_render(tmp_path):
    from reelsmith.core.storage import Files, LocalStorage
    from reelsmith.tasks.runner import run_task

    shared = LocalStorage(tmp_path / "shared")
    web, worker = Files(tmp_path / "web", shared), Files(tmp_path / "worker", shared)
    for machine in (web, worker):
        machine.prepare()
    web.upload_path("u.png").write_bytes(b"png")
    web.share_uploads(["u.png"])
    task = Task(id="c" * 32, request=CreateRequest(topic="t", backgrounds=["u.png"]))

    def render(task, report, fail=False):
        assert worker.upload_path("u.png").read_bytes() == b"png"  # fetched first
        (worker.videos / f".{task.id}.partial.mp4").write_bytes(b"half")
        for suffix in (".srt", ".jpg") if fail else (".srt", ".jpg", ".mp4"):
            worker.output_path(task.id, suffix).write_bytes(b"x")
        if fail:
            raise RenderError("no")
        (worker.videos / f".{task.id}.partial.mp4").unlink()
        return {"ok": True}

    with pytest.raises(RenderError):
        run_task(task, lambda *a: None, render=lambda t, r: render(t, r, fail=True), files=worker)
    assert shared.list("videos") == []  # nothing published
    assert not (worker.videos / f".{task.id}.partial.mp4").exists()  # no temp file left
    assert run_task(task, lambda *a: None, render=render, files=worker) == {"ok": True}
    assert shared.list("videos") == [f"videos/{task.id}{s}" for s in (".jpg", ".mp4", ".srt")]
