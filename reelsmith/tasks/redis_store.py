"""A TaskStore (store.py) on Redis, shared by the web process and every
worker machine, so status, stage, progress, ETA, events, cancel, retention
and webhooks look the same from anywhere.

Keys (all under ``<namespace>:``)::

    seq                 counter giving tasks their creation order
    task:<id>           hash: the Task's fields (request/result as JSON)
    all                 sorted set id -> seq (every task, for list())
    status:<status>     sorted set id -> seq (count/with_status/claim_next)
    done                sorted set id -> finished_at (done, outputs not expired)
    events:<id>         list of JSON events
    cancel:<id>         set when a cancel was asked for a running task
    lease:<id>          the worker running it, kept alive while it runs (TTL)

This is state, not a queue: the task engine (distributed.py) carries the
messages. Transitions are checked and applied in one WATCH/MULTI transaction.
"""

from __future__ import annotations

import json
import logging
import time

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from reelsmith.request import CreateRequest
from reelsmith.tasks.model import Task, TaskStatus

log = logging.getLogger(__name__)

FIELDS = (
    "status",
    "stage",
    "progress",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
    "error_stage",
    "error_message",
    "result",
    "expired_at",
)
CANCEL_TTL = 86400


def client_options(retries: int = 30) -> dict:
    """redis-py options that ride out a Redis restart: up to ``retries``
    reconnects with backoff capped at 1 s (about half a minute) before an error."""
    return dict(
        socket_connect_timeout=3,
        socket_timeout=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def connect(url: str, retries: int = 30) -> redis.Redis:
    return redis.Redis.from_url(
        url, decode_responses=True, health_check_interval=15, **client_options(retries)
    )


def _encode(value) -> str:
    if isinstance(value, TaskStatus):
        return value.value
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class RedisTaskStore:
    """store.TaskStore on a shared Redis, with the cancel flags and leases
    the distributed engine needs across machines."""

    def __init__(self, client: redis.Redis | str, namespace: str = "reelsmith"):
        self.r = connect(client) if isinstance(client, str) else client
        self.ns = namespace

    # -- keys ---------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return ":".join((self.ns, *parts))

    def close(self) -> None:
        self.r.close()

    def ping(self) -> None:
        self.r.ping()

    # -- TaskStore interface -------------------------------------------------
    def add(self, task: Task) -> None:
        seq = self.r.incr(self._k("seq"))
        mapping = {"id": task.id, "seq": seq, "request": json.dumps(task.request.to_dict())}
        mapping.update(
            {f: _encode(getattr(task, f)) for f in FIELDS if getattr(task, f) is not None}
        )
        with self.r.pipeline() as pipe:  # MULTI/EXEC: all or nothing
            pipe.hset(self._k("task", task.id), mapping=mapping)
            pipe.zadd(self._k("all"), {task.id: seq})
            pipe.zadd(self._k("status", task.status.value), {task.id: seq})
            pipe.rpush(self._k("events", task.id), self._event_json(task.status, "created"))
            pipe.execute()

    def get(self, task_id: str) -> Task | None:
        data = self.r.hgetall(self._k("task", task_id))
        return _to_task(data) if data else None

    def _many(self, ids: list[str]) -> list[Task]:
        with self.r.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hgetall(self._k("task", task_id))
            rows = pipe.execute()
        return [_to_task(row) for row in rows if row]

    def list(self, limit: int = 200) -> list[Task]:
        return self._many(self.r.zrevrange(self._k("all"), 0, limit - 1))

    def with_status(self, status: TaskStatus) -> list[Task]:
        return self._many(self.r.zrange(self._k("status", status.value), 0, -1))

    def count(self, status: TaskStatus) -> int:
        return self.r.zcard(self._k("status", status.value))

    def queue_positions(self, task_ids: list[str]) -> dict[str, int]:
        """The place in line of each of ``task_ids`` still queued (1 = the next to run)."""
        with self.r.pipeline() as pipe:  # MULTI/EXEC: one moment for all
            for task_id in task_ids:
                pipe.zrank(self._k("status", "queued"), task_id)
            ranks = pipe.execute()
        return {i: rank + 1 for i, rank in zip(task_ids, ranks, strict=True) if rank is not None}

    def recent_durations(self, limit: int = 10) -> list[float]:
        """How long the last ``limit`` done tasks ran, in seconds."""
        tasks = self._many(self.r.zrevrange(self._k("done"), 0, limit - 1))
        return [t.finished_at - t.started_at for t in tasks if t.started_at and t.finished_at]

    def claim_next(self) -> Task | None:
        for task_id in self.r.zrange(self._k("status", "queued"), 0, 9):
            task = self.claim(task_id)
            if task is not None:
                return task
        return None

    def claim(self, task_id: str) -> Task | None:
        """Move ``task_id`` from queued to running, one more attempt; None if it
        is in another state (someone else has it)."""
        moved = self._transition(
            task_id,
            TaskStatus.RUNNING,
            (TaskStatus.QUEUED,),
            "started",
            {"started_at": time.time(), "stage": "starting", "progress": 0.0},
            bump_attempts=True,
        )
        return self.get(task_id) if moved else None

    def finished_before(self, when: float) -> list[Task]:
        return self._many(self.r.zrangebyscore(self._k("done"), "-inf", f"({when}"))

    def record(self, task_id: str, message: str, **fields) -> None:
        key = self._k("task", task_id)
        status = self.r.hget(key, "status")
        if status is None:
            return
        with self.r.pipeline() as pipe:
            self._set_fields(pipe, key, fields)
            if fields.get("expired_at") is not None:
                pipe.zrem(self._k("done"), task_id)
            pipe.rpush(self._k("events", task_id), self._event_json(TaskStatus(status), message))
            pipe.execute()

    def events(self, task_id: str) -> list[dict]:
        return [json.loads(e) for e in self.r.lrange(self._k("events", task_id), 0, -1)]

    def transition(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        message: str | None = None,
        only_from: tuple[TaskStatus, ...] | None = None,
        **fields,
    ) -> bool:
        return self._transition(task_id, status, only_from, message, fields)

    def update_progress(self, task_id: str, stage: str, progress: float) -> None:
        """Best effort: a write that fails is logged, not raised (the outcome is not)."""
        try:
            self.r.hset(self._k("task", task_id), mapping={"stage": stage, "progress": progress})
        except redis.RedisError:
            log.warning("could not store the progress of %s (Redis unreachable)", task_id)

    # -- across machines: cancel and leases ----------------------------------
    def request_cancel(self, task_id: str) -> None:
        self.r.set(self._k("cancel", task_id), "1", ex=CANCEL_TTL)

    def cancel_requested(self, task_id: str) -> bool:
        return bool(self.r.exists(self._k("cancel", task_id)))

    def clear_cancel(self, task_id: str) -> None:
        self.r.delete(self._k("cancel", task_id))

    def take_lease(self, task_id: str, holder: str, ttl: float) -> bool:
        """True if nobody (alive) holds ``task_id``; it is then ours for ``ttl`` s."""
        return bool(self.r.set(self._k("lease", task_id), holder, nx=True, px=int(ttl * 1000)))

    def renew_leases(self, task_ids: list[str], ttl: float) -> None:
        with self.r.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.pexpire(self._k("lease", task_id), int(ttl * 1000))
            pipe.execute()

    def drop_lease(self, task_id: str) -> None:
        self.r.delete(self._k("lease", task_id))

    # -- internals -----------------------------------------------------------
    def _event_json(self, status: TaskStatus, message: str | None) -> str:
        return json.dumps({"at": time.time(), "status": status.value, "message": message})

    def _set_fields(self, pipe, key: str, fields: dict) -> None:
        present = {k: _encode(v) for k, v in fields.items() if v is not None}
        absent = [k for k, v in fields.items() if v is None]
        if present:
            pipe.hset(key, mapping=present)
        if absent:
            pipe.hdel(key, *absent)

    def _transition(
        self,
        task_id: str,
        status: TaskStatus,
        only_from,
        message,
        fields,
        bump_attempts: bool = False,
    ) -> bool:
        key = self._k("task", task_id)
        changed = False

        def apply(pipe) -> None:
            nonlocal changed
            current, seq = pipe.hmget(key, "status", "seq")
            if current is None or (only_from and TaskStatus(current) not in only_from):
                changed = False
                pipe.multi()  # an empty transaction: nothing to change
                return
            pipe.multi()
            self._set_fields(pipe, key, {"status": status.value, **fields})
            if bump_attempts:
                pipe.hincrby(key, "attempts", 1)
            pipe.zrem(self._k("status", current), task_id)
            pipe.zadd(self._k("status", status.value), {task_id: float(seq)})
            if status == TaskStatus.DONE:
                pipe.zadd(self._k("done"), {task_id: fields.get("finished_at") or time.time()})
            else:
                pipe.zrem(self._k("done"), task_id)
            pipe.rpush(self._k("events", task_id), self._event_json(status, message))
            changed = True

        self.r.transaction(apply, key)
        return changed


def _to_task(data: dict) -> Task:
    def num(name):
        value = data.get(name)
        return float(value) if value not in (None, "") else None

    return Task(
        id=data["id"],
        request=CreateRequest.from_stored(json.loads(data["request"])),
        status=TaskStatus(data["status"]),
        stage=data.get("stage", "queued"),
        progress=float(data.get("progress") or 0.0),
        attempts=int(data.get("attempts") or 0),
        created_at=float(data["created_at"]),
        started_at=num("started_at"),
        finished_at=num("finished_at"),
        error_stage=data.get("error_stage"),
        error_message=data.get("error_message"),
        result=json.loads(data["result"]) if data.get("result") else None,
        expired_at=num("expired_at"),
    )
