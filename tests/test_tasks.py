"""The task lifecycle, store and queue, with a small in-test runner."""

import threading
import time

import pytest

from reelsmith.core.exceptions import RenderError
from reelsmith.request import CreateRequest
from reelsmith.tasks.queue import (
    MAX_ATTEMPTS,
    QueueFull,
    Task,
    TaskQueue,
    TaskStatus,
    TaskStore,
)
from tests.helpers import wait_for


@pytest.fixture
def store(tmp_path):
    s = TaskStore(tmp_path / "tasks.sqlite3")
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
    from reelsmith.tasks.queue import PROGRESS_EVERY

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
    first = TaskStore(path)
    q1 = TaskQueue(first, lambda t, r: {})
    a = q1.submit(CreateRequest(topic="a"))
    b = q1.submit(CreateRequest(topic="b"))
    # Simulate a crash while "a" was running.
    first.transition(a.id, TaskStatus.RUNNING, attempts=1, stage="render")
    first.close()

    order = []
    second = TaskStore(path)
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
    first = TaskStore(path)
    ids = [
        TaskQueue(first, lambda t, r: {}, maxsize=10).submit(CreateRequest(topic=str(i))).id
        for i in range(5)
    ]
    first.close()

    second = TaskStore(path)
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
    store = TaskStore(tmp_path / "t.sqlite3")
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
    store = TaskStore(path)
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

    again = TaskStore(path)
    q2 = TaskQueue(again, lambda t, r: {"second": True})
    q2.start()
    done = wait_for(lambda: finished(again, task.id))
    q2.shutdown(5)
    assert done.status == TaskStatus.DONE and done.attempts == 2
    messages = [e["message"] for e in again.events(task.id)]
    assert "interrupted by shutdown; will run again on start" in messages
