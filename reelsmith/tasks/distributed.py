"""The task engine glue (with ``REDIS_URL``): Dramatiq on Redis carries one
message per task (its id); the shared RedisTaskStore holds its state; the
storage holds its files.

- The web process only enqueues: ``DistributedQueue.submit`` stores the task,
  shares its uploads and sends the message. It renders nothing.
- A worker process (worker.py) runs the ``render_task`` actor, which claims
  the task in the store and runs it through the same lifecycle and runner as
  the in-process queue (lifecycle.py, runner.py), publishing the outputs.

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

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from reelsmith.core.exceptions import QueueFull
from reelsmith.core.storage import Files
from reelsmith.request import CreateRequest
from reelsmith.tasks.lifecycle import Lifecycle, Runner
from reelsmith.tasks.model import Task, TaskStatus
from reelsmith.tasks.redis_store import RedisTaskStore, client_options
from reelsmith.tasks.store import locate

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
    """The cancel requests of running tasks, kept in the shared store so that a
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


class DistributedQueue:
    """The task queue's interface (as queue.TaskQueue) with Dramatiq carrying
    the work. In the web process it enqueues; in a worker process ``perform``
    runs one task."""

    def __init__(
        self,
        store: RedisTaskStore,
        files: Files,
        broker: RedisBroker,
        runner: Runner,
        *,
        workers: int = 1,
        maxsize: int = 100,
        lease_ttl: float = 10.0,
    ):
        self.store = store
        self.files = files
        self.broker = broker
        self.runner = runner
        self.workers = workers
        self.maxsize = maxsize
        self.lease_ttl = lease_ttl
        self.lifecycle = Lifecycle(
            store, files=files, cancels=RemoteCancels(store), stopped="its worker"
        )
        self.webhooks = self.lifecycle.webhooks
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.running: set[str] = set()
        self._started = False
        self._stopping = threading.Event()
        self._interrupt = threading.Event()
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

    def wait_until_stopping(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True once shutdown has begun."""
        return self._stopping.wait(timeout)

    def submit(self, request: CreateRequest) -> Task:
        if self._stopping.is_set():
            raise QueueFull("the server is shutting down")
        try:
            self.files.share_uploads(request.uploads)
            task = self.lifecycle.admit(request, self.maxsize)
            try:
                self.actor.send(task.id)
            except redis.RedisError:  # stored but never sent: don't leave it queued forever
                self.lifecycle.fail(
                    task.id,
                    "queued",
                    "the task engine could not take it",
                    event="could not be sent to the workers",
                )
                raise
        except redis.RedisError as exc:
            raise QueueFull(f"the task engine's Redis can't be reached ({exc})") from None
        return task

    def approve(self, task_id: str, request: CreateRequest) -> bool:
        """Queue a task in review again, to render ``request``, and send it to the workers."""
        if not self.lifecycle.approve(task_id, request):
            return False
        self.actor.send(task_id)
        return True

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued task now, or ask its worker to stop it."""
        return self.lifecycle.cancel(task_id)

    def locate(self, tasks: list[Task]) -> list[Task]:
        """Each queued task's place in line and ETA (store.locate)."""
        return locate(self.store, tasks, self.workers)

    # -- worker side ---------------------------------------------------------
    def interrupt(self) -> None:
        """Make every running render stop at its next progress report and hand its task back."""
        self._interrupt.set()

    def perform(self, task_id: str) -> None:
        """The actor: run ``task_id`` once, unless someone alive already is."""
        task = self.store.get(task_id)
        if task is None or task.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
            return
        if not self.store.take_lease(task_id, self.holder, self.lease_ttl):
            log.info("task %s is held by a live worker: duplicate message dropped", task_id)
            return
        self.running.add(task_id)
        try:
            # Running, but nobody holds it: its worker died mid-render.
            if task.status == TaskStatus.RUNNING and not self.lifecycle.recover(task):
                return
            claimed = self.lifecycle.claim(task_id)
            if claimed is None:
                return
            if self.lifecycle.run(claimed, self.runner, self._interrupt) == TaskStatus.QUEUED:
                self.store.drop_lease(task_id)  # handed back (SIGTERM): for another worker
                self.actor.send(task_id)
        finally:
            self.running.discard(task_id)
            self.store.drop_lease(task_id)

    def heartbeat(self) -> None:
        """Keep this worker alive in the broker's eyes and its leases held,
        even while every render slot is busy (no fetch then)."""
        self.broker.do_qsize(QUEUE)
        if self.running:
            self.store.renew_leases(list(self.running), self.lease_ttl)


def distributed_queue(settings, files: Files, runner: Runner) -> DistributedQueue:
    """The queue for ``REDIS_URL``: the shared store, the broker, the storage."""
    store = RedisTaskStore(settings.tasks.redis_url)
    broker = make_broker(settings.tasks.redis_url, settings.tasks.engine_heartbeat_timeout)
    return DistributedQueue(
        store,
        files,
        broker,
        runner,
        workers=max(1, settings.tasks.workers),
        maxsize=settings.tasks.queue_size,
        lease_ttl=max(4.0, settings.tasks.engine_heartbeat_timeout / 2),
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
