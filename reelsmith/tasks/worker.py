"""The render worker process: ``flask --app app worker`` (needs ``REDIS_URL``).

Runs Dramatiq's worker in this process with ``WORKERS`` render slots, taking
tasks from any web machine and any number of other worker machines. It checks
Redis and the storage first and says plainly what is wrong, without a stack
trace. SIGTERM (or Ctrl-C) interrupts the renders in progress and hands their
tasks back to the queue; a worker that dies without that (SIGKILL, power
loss) has its tasks run elsewhere once its heartbeat is
``ENGINE_HEARTBEAT_TIMEOUT`` seconds old.
"""

from __future__ import annotations

import logging
import signal
import threading

import redis

from reelsmith.core.exceptions import StorageUnavailable, WorkerError

log = logging.getLogger("reelsmith.worker")


def check_services(settings, queue) -> None:
    """Fail fast and clearly when Redis or the storage can't be reached."""
    from urllib.parse import urlparse

    from redis.backoff import NoBackoff
    from redis.retry import Retry

    parsed = urlparse(settings.tasks.redis_url)
    where = f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}"  # never the password
    try:
        probe = redis.Redis.from_url(
            settings.tasks.redis_url,
            socket_connect_timeout=3,
            socket_timeout=3,
            retry=Retry(NoBackoff(), 0),
        )
        probe.ping()
        probe.close()
    except redis.AuthenticationError as exc:
        raise WorkerError(f"Redis at {where} refused the credentials in REDIS_URL: {exc}") from None
    except (redis.RedisError, ValueError) as exc:
        raise WorkerError(f"cannot reach Redis at {where} (REDIS_URL): {exc}") from None
    try:
        queue.files.storage.check()
    except StorageUnavailable as exc:
        raise WorkerError(f"{exc} (STORAGE_URL)") from None


def run_worker(app, threads: int | None = None) -> None:
    """Take and render tasks until SIGTERM/SIGINT. Raises WorkerError at start."""
    from dramatiq import Worker

    from reelsmith.tasks.distributed import QUEUE, DistributedQueue, start_heartbeat

    settings = app.config["SETTINGS"]
    queue = app.extensions["reelsmith"]
    if not settings.tasks.redis_url or not isinstance(queue, DistributedQueue):
        raise WorkerError(
            "REDIS_URL is not set: without it the web process renders its "
            "tasks itself (WORKERS threads) and no worker is needed"
        )
    check_services(settings, queue)
    slots = threads or max(1, settings.tasks.workers)
    worker = Worker(queue.broker, queues={QUEUE}, worker_threads=slots, worker_timeout=1000)
    worker.queue_prefetch = slots  # hold no more than we run: waiting tasks stay for others
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("%s: handing running tasks back and stopping", signal.Signals(signum).name)
        queue.interrupt()  # the next progress report raises TaskInterrupted
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    every = min(2.0, settings.tasks.engine_heartbeat_timeout / 5)
    queue.heartbeat()
    start_heartbeat(queue, every, stop)
    worker.start()
    log.info(
        "worker %s: %d render slot(s) on %s, storage %s",
        queue.holder,
        slots,
        QUEUE,
        queue.files.storage.url,
    )
    print(
        f"reelsmith worker ready: {slots} render slot(s), storage {queue.files.storage.url}",
        flush=True,
    )
    stop.wait()
    worker.stop(timeout=int(settings.tasks.shutdown_timeout * 1000))
    for thread in queue.webhooks.threads:  # deliver what finished before leaving
        thread.join(5.0)
    log.info("worker stopped")
