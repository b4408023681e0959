"""The pooled HTTP client behind every outbound call (script server, Pexels).

A class that mixes in ``PooledHTTP`` gets one ``httpx.Client`` of its own,
created lazily under a lock on first use and shared by all its instances and
threads, so repeated calls reuse keep-alive connections (and their TLS
sessions) instead of opening new ones.
"""

from __future__ import annotations

import threading
from typing import ClassVar

import httpx

POOL_LIMITS = httpx.Limits(max_keepalive_connections=10, max_connections=20)


class PooledHTTP:
    _http_client: ClassVar[httpx.Client | None] = None
    _http_client_lock: ClassVar[threading.Lock] = threading.Lock()
    _http_timeout: ClassVar[float] = 60.0  # default per request; calls may pass their own

    @classmethod
    def _get_http_client(cls) -> httpx.Client:
        """This class's shared client (each subclass has its own pool)."""
        if cls.__dict__.get("_http_client") is None:
            with PooledHTTP._http_client_lock:
                if cls.__dict__.get("_http_client") is None:
                    cls._http_client = httpx.Client(limits=POOL_LIMITS, timeout=cls._http_timeout)
        return cls._http_client

    @classmethod
    def use_http_client(cls, client: httpx.Client | None) -> httpx.Client | None:
        """Make ``client`` this class's shared client (None: a new one is
        made on next use); returns the one it replaces. For benchmarks and
        tests that bring their own client."""
        with PooledHTTP._http_client_lock:
            previous = cls.__dict__.get("_http_client")
            cls._http_client = client
        return previous
