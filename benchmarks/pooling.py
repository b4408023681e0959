"""How much does the pooled HTTP client save on real TLS?

One run against a loopback OpenAI-compatible HTTPS server (tests/servers.py's
FakeOpenAI with its socket wrapped in TLS; certificates from a throwaway
``trustme`` certificate authority), 100 sequential ``generate_script`` calls
(distinct topics, no cache) two ways:

1. pooled   - every ContentGenerator shares one keep-alive httpx.Client
              (the app's ``ContentGenerator._get_http_client()`` path);
2. unpooled - each call gets a fresh httpx.Client (new SSL context, new TCP
              connection, new TLS handshake), closed after the call.

The server counts the TCP connections it accepts in each phase.

    python benchmarks/pooling.py

Last line: pooled_connections=<n> unpooled_connections=<n> speedup=<unpooled s / pooled s>
"""

from __future__ import annotations

import ssl
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import trustme  # noqa: E402

from content_generator import ContentGenerator  # noqa: E402
from reelsmith.core.http_pool import POOL_LIMITS  # noqa: E402
from reelsmith.core.settings import Settings  # noqa: E402
from tests.helpers.servers import FakeOpenAI  # noqa: E402

REQUESTS = 100


class FakeOpenAIOverTLS(FakeOpenAI):
    """FakeOpenAI behind real TLS: the listening socket is wrapped, so every
    accepted connection is an SSLSocket (handshake done in the handler thread)."""

    def __init__(self, server_ctx: ssl.SSLContext, **kwargs):
        super().__init__(**kwargs)
        self._server.socket = server_ctx.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"https://{host}:{port}"


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """What a fresh client builds: a default context that trusts the test CA."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def run_phase(server, topics, client_factory, close_each: bool) -> tuple[int, float]:
    """generate_script for each topic; (connections accepted, seconds).
    client_factory() returns the httpx.Client ContentGenerator will use."""
    before = server.connections
    start = time.perf_counter()
    for topic in topics:
        http = client_factory()
        ContentGenerator.use_http_client(http)  # what _get_http_client() hands out
        gen = ContentGenerator(
            api_key="bench",
            base_url=server.base_url,
            settings=Settings(),
            max_retries=0,
            timeout=10.0,
        )
        gen.generate_script(topic)
        if close_each:
            http.close()
    return server.connections - before, time.perf_counter() - start


def main() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)

    original = ContentGenerator.use_http_client(None)
    with FakeOpenAIOverTLS(server_ctx) as server:
        try:
            # Warm-up (imports, first handshake), not counted.
            with httpx.Client(verify=client_context(ca)) as warm:
                run_phase(server, ["warm-up"], lambda: warm, close_each=False)

            pooled = httpx.Client(verify=client_context(ca), limits=POOL_LIMITS, timeout=60.0)
            pooled_conns, pooled_s = run_phase(
                server,
                [f"pooled topic {i}" for i in range(REQUESTS)],
                lambda: pooled,
                close_each=False,
            )
            pooled.close()

            unpooled_conns, unpooled_s = run_phase(
                server,
                [f"unpooled topic {i}" for i in range(REQUESTS)],
                lambda: httpx.Client(verify=client_context(ca), timeout=60.0),
                close_each=True,
            )
        finally:
            ContentGenerator.use_http_client(original)

    print("| mode | requests | connections | total s | ms/request |")
    print("|---|---:|---:|---:|---:|")
    for mode, conns, secs in (
        ("pooled", pooled_conns, pooled_s),
        ("unpooled", unpooled_conns, unpooled_s),
    ):
        print(f"| {mode} | {REQUESTS} | {conns} | {secs:.3f} | {secs / REQUESTS * 1000:.2f} |")
    print(
        f"pooled_connections={pooled_conns} unpooled_connections={unpooled_conns} "
        f"speedup={unpooled_s / pooled_s:.2f}"
    )


if __name__ == "__main__":
    main()
