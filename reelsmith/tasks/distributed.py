"""The task engine glue (with ``REDIS_URL``): Dramatiq on Redis carries one
message per task (its id); the shared RedisTaskStore holds its state; the
storage holds its files.

- The web process only enqueues: ``DistributedQueue.submit`` stores the task,
  shares its uploads and sends the message. It renders nothing.
- A worker process (worker.py) runs the ``render_task`` actor, which claims
  the task in the store, renders it through the same runner and outcome logic
  as the in-process queue (tasks.TaskQueue._run) and publishes the outputs.

Semantics, from Dramatiq's Redis broker: a message is acknowledged only when
the actor returns, and the unacknowledged messages of a worker whose
heartbeat stopped (``ENGINE_HEARTBEAT_TIMEOUT``) go back to the queue, so a
SIGKILLed worker's task runs elsewhere. A lease per running task (renewed
with the heartbeat) keeps a duplicate message from starting a second render
of a task that is still alive. Cancel is a flag in the store that the running
render reads at its progress reports; SIGTERM interrupts the render, puts the
task back to queued and sends its message again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from reelsmith.core import storage as storage_mod
from reelsmith.core.exceptions import QueueFull
from reelsmith.request import CreateRequest
from reelsmith.tasks.queue import MAX_ATTEMPTS, Task, TaskQueue, TaskStatus
from reelsmith.tasks.redis_store import RedisTaskStore, client_options

log = logging.getLogger(__name__)

QUEUE = "renders"
ACTOR = "render_task"
MAINTENANCE_CHANCE = (
    200_000  # of a million broker commands: a dead worker is noticed within seconds
)
CANCEL_EVERY = 0.25  # seconds between cancel checks of one task


def make_broker(redis_url: str, heartbeat_timeout: float) -> RedisBroker:
    """Dramatiq's Redis broker with no retry/time-limit middleware: a render
    takes as long as it takes, and the outcome is stored by us, not retried."""
    client = redis.Redis.from_url(redis_url, **client_options())
    return RedisBroker(
        client=client,
        middleware=[],
        namespace="reelsmith-engine",
        heartbeat_timeout=int(heartbeat_timeout * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )


class RemoteCancels:
    """TaskQueue's set of cancel requests, kept in the shared store so that a
    cancel on the web machine reaches a render on any worker (read at most
    every CANCEL_EVERY s per task)."""

    def __init__(self, store: RedisTaskStore):
        self.store = store
        self._seen: dict[str, tuple[float, bool]] = {}

    def __contains__(self, task_id: str) -> bool:
        at, answer = self._seen.get(task_id, (0.0, False))
        if time.monotonic() - at >= CANCEL_EVERY:
            try:
                answer = self.store.cancel_requested(task_id)
            except redis.RedisError:
                answer = False  # Redis restarting: asked again at the next report
            self._seen[task_id] = (time.monotonic(), answer)
        return answer

    def add(self, task_id: str) -> None:
        self.store.request_cancel(task_id)

    def discard(self, task_id: str) -> None:
        self._seen.pop(task_id, None)
        self.store.clear_cancel(task_id)


class BestEffortProgressStore:
    """The shared store, where a progress write that fails is logged, not
    raised: progress is best effort, the outcome is not. (TaskQueue's report
    writes progress at most every tasks.PROGRESS_EVERY s.)"""

    def __init__(self, store: RedisTaskStore):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def update_progress(self, task_id: str, stage: str, progress: float) -> None:
        try:
            self._store.update_progress(task_id, stage, progress)
        except redis.RedisError:
            log.warning("could not store the progress of %s (Redis unreachable)", task_id)


class DistributedQueue(TaskQueue):
    """TaskQueue's interface with Dramatiq carrying the work. In the web
    process it enqueues; in a worker process ``perform`` runs one task."""

    def __init__(
        self,
        store: RedisTaskStore,
        storage,
        broker: RedisBroker,
        runner=None,
        *,
        workers: int = 1,
        maxsize: int = 100,
        uploads_dir: Path | None = None,
        lease_ttl: float = 10.0,
    ):
        super().__init__(BestEffortProgressStore(store), runner, workers=workers, maxsize=maxsize)
        self.shared = store
        self.storage = storage
        self.broker = broker
        self.uploads_dir = uploads_dir
        self.lease_ttl = lease_ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.running: set[str] = set()
        self._cancel_requested = RemoteCancels(store)
        self._started = False
        self.actor = dramatiq.actor(self.perform, actor_name=ACTOR, queue_name=QUEUE, broker=broker)

    # -- web side ----------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        """Nothing runs here: recovery is the engine's (redelivery), work is the workers'."""
        self._started = True

    def shutdown(self, timeout: float = 30.0) -> bool:
        self._stopping.set()
        return True

    def submit(self, request: CreateRequest) -> Task:
        if self._stopping.is_set():
            raise QueueFull("the server is shutting down")
        try:
            self.share_uploads(request)
            task = Task(id=uuid.uuid4().hex, request=request)
            with self._submit_lock:
                if self.shared.count(TaskStatus.QUEUED) >= self.maxsize:
                    raise QueueFull("the queue is full")
                self.shared.add(task)
            try:
                self.actor.send(task.id)
            except redis.RedisError:  # stored but never sent: don't leave it queued forever
                self.shared.transition(
                    task.id,
                    TaskStatus.FAILED,
                    finished_at=time.time(),
                    message="could not be sent to the workers",
                    error_stage="queued",
                    error_message="the task engine could not take it",
                )
                raise
        except redis.RedisError as exc:
            raise QueueFull(f"the task engine's Redis can't be reached ({exc})") from None
        return task

    def cancel(self, task_id: str) -> Task | None:
        task = super().cancel(task_id)
        if task is not None and task.status == TaskStatus.CANCELED:
            self.remove_shared_uploads(task.request)
        return task

    def share_uploads(self, request: CreateRequest) -> None:
        """Put the request's uploads (saved in this machine's uploads folder) in the storage."""
        for name in request.uploads:
            if self.uploads_dir is not None:
                local = self.uploads_dir / name
                if local.exists():
                    self.storage.publish(local, storage_mod.upload_name(name))

    def remove_shared_uploads(self, request: CreateRequest) -> None:
        for name in request.uploads:
            self.storage.delete(storage_mod.upload_name(name))

    # -- worker side ---------------------------------------------------------
    def perform(self, task_id: str) -> None:
        """The actor: run ``task_id`` once, unless someone alive already is."""
        task = self.shared.get(task_id)
        if (
            task is None
            or task.status.finished
            or task.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING)
        ):
            return
        if not self.shared.take_lease(task_id, self.holder, self.lease_ttl):
            log.info("task %s is held by a live worker: duplicate message dropped", task_id)
            return
        self.running.add(task_id)
        try:
            if task.status == TaskStatus.RUNNING:  # its worker died mid-render
                if task.attempts >= MAX_ATTEMPTS:
                    if self.shared.transition(
                        task_id,
                        TaskStatus.FAILED,
                        message="interrupted twice",
                        only_from=(TaskStatus.RUNNING,),
                        finished_at=time.time(),
                        error_stage=task.stage,
                        error_message="interrupted: its worker stopped twice while this "
                        "task was running",
                    ):
                        self.remove_shared_uploads(task.request)
                        self.webhooks.send(self.shared.get(task_id))
                    return
                claimed = self.shared.claim(task_id, also_from=(TaskStatus.RUNNING,))
                if claimed is not None:
                    self.shared.record(task_id, "started again: its worker stopped mid-render")
            else:
                claimed = self.shared.claim(task_id)
            if claimed is None:
                return
            self._run(claimed)  # tasks.TaskQueue: report, cancel, outcome, webhook
            after = self.shared.get(task_id)
            if after is not None and after.status == TaskStatus.QUEUED:  # handed back (SIGTERM)
                self.shared.drop_lease(task_id)
                self.actor.send(task_id)
        finally:
            self.running.discard(task_id)
            self.shared.drop_lease(task_id)

    def heartbeat(self) -> None:
        """Keep this worker alive in the broker's eyes and its leases held,
        even while every render slot is busy (no fetch then)."""
        self.broker.do_qsize(QUEUE)
        if self.running:
            self.shared.renew_leases(list(self.running), self.lease_ttl)


def shared_runner(runner, storage, uploads_dir: Path, videos_dir: Path):
    """Wrap a local runner for a worker machine: fetch the task's uploads from
    the storage first; publish its outputs after (mp4 last), then drop the
    shared uploads. A render that fails or is interrupted publishes nothing."""
    from reelsmith.core.exceptions import TaskInterrupted

    def run(task: Task, report) -> dict:
        req = task.request
        for name in req.uploads:
            if not (uploads_dir / name).exists():  # saved on another machine
                storage.fetch(storage_mod.upload_name(name), uploads_dir / name)
        try:
            result = runner(task, report)
        except TaskInterrupted:
            raise  # runs again: the uploads stay
        except BaseException:
            _remove_shared(storage, req)
            raise
        for suffix in sorted(storage_mod.OUTPUT_SUFFIXES, key=lambda s: s == ".mp4"):
            local = videos_dir / f"{task.id}{suffix}"
            if local.exists():
                storage.publish(local, storage_mod.output_name(task.id, suffix))
        _remove_shared(storage, req)
        return result

    return run


def _remove_shared(storage, req: CreateRequest) -> None:
    for name in req.uploads:
        storage.delete(storage_mod.upload_name(name))


def distributed_queue(settings, storage, runner) -> DistributedQueue:
    """The queue for ``REDIS_URL``: the shared store, the broker, the storage."""
    store = RedisTaskStore(settings.redis_url)
    broker = make_broker(settings.redis_url, settings.engine_heartbeat_timeout)
    return DistributedQueue(
        store,
        storage,
        broker,
        runner,
        workers=max(1, settings.workers),
        maxsize=settings.queue_size,
        uploads_dir=settings.data_dir / "uploads",
        lease_ttl=max(4.0, settings.engine_heartbeat_timeout / 2),
    )


def start_heartbeat(
    queue: DistributedQueue, every: float, stop: threading.Event
) -> threading.Thread:
    def loop():
        while not stop.wait(every):
            try:
                queue.heartbeat()
            except redis.RedisError as exc:
                log.warning("heartbeat failed (Redis unreachable?): %s", exc)

    thread = threading.Thread(target=loop, name="engine-heartbeat", daemon=True)
    thread.start()
    return thread
