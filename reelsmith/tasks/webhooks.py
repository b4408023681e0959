"""Webhooks: a finished task's JSON, POSTed to the URL its request gave."""

from __future__ import annotations

import json
import threading
import time

from reelsmith.core.netguard import GuardedBackend, UnsafeURL
from reelsmith.tasks.model import Task
from reelsmith.tasks.store import TaskStore


class WebhookSender:
    """POSTs a finished task's JSON to its ``webhook_url``, in the background,
    retrying with exponential backoff. Delivery is recorded as a task event;
    a failed webhook never changes the task's outcome.

    Unless ``allow_private`` (WEBHOOK_ALLOW_PRIVATE), the connection goes only
    to public addresses, checked when it is made (netguard.GuardedBackend): a
    URL whose name now resolves to a private address is refused, not retried."""

    def __init__(
        self,
        store: TaskStore,
        attempts: int = 4,
        first_delay: float = 0.5,
        timeout: float = 5.0,
        allow_private: bool = False,
    ):
        self.store = store
        self.attempts = attempts
        self.first_delay = first_delay
        self.timeout = timeout
        self._backend = GuardedBackend(allow_private=allow_private)
        self._pool = None
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    @property
    def allow_private(self) -> bool:
        return self._backend.allow_private

    @allow_private.setter
    def allow_private(self, value: bool) -> None:
        self._backend.allow_private = value  # read at every connection

    def _http(self):
        with self._lock:
            if self._pool is None:
                import httpcore

                self._pool = httpcore.ConnectionPool(network_backend=self._backend)
            return self._pool

    def send(self, task: Task) -> None:
        if not task.request.webhook_url:
            return
        thread = threading.Thread(
            target=self._deliver, args=(task,), daemon=True, name=f"webhook-{task.id[:8]}"
        )
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def _post(self, url: str, task: Task) -> int:
        body = json.dumps(task.to_dict()).encode()
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        response = self._http().request(
            "POST",
            url,
            content=body,
            extensions={"timeout": timeouts},
            headers={"Content-Type": "application/json", "User-Agent": "reelsmith-webhook"},
        )
        return response.status

    def _deliver(self, task: Task) -> None:
        delay, problem = self.first_delay, ""
        for attempt in range(1, self.attempts + 1):
            try:
                status = self._post(task.request.webhook_url, task)
                if status < 300:
                    self.store.record(
                        task.id, f"webhook delivered (HTTP {status}, attempt {attempt})"
                    )
                    return
                problem = f"HTTP {status}"
            except UnsafeURL as exc:  # DNS changed since the task was created
                self.store.record(task.id, f"webhook refused: {exc}")
                return
            except Exception as exc:  # connection refused, timeout, bad URL...
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                time.sleep(delay)
                delay *= 2
        self.store.record(task.id, f"webhook failed after {self.attempts} attempts: {problem}")
