"""Serve an app with waitress on a free 127.0.0.1 port, in a thread, for tests
that need the real HTTP server (raw Host headers, schemathesis)."""

from __future__ import annotations

import threading
from contextlib import contextmanager


@contextmanager
def serve(app, threads: int = 4, shutdown_timeout: float = 10):
    """Yields the base URL, e.g. ``http://127.0.0.1:40123``; stops the server and
    the app's task queue afterwards."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)

    def run():
        try:
            server.run()
        except OSError:  # the loop's sockets closed under it by server.close()
            pass

    thread = threading.Thread(target=run, daemon=True, name="waitress-test")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)
        app.extensions["reelsmith"].shutdown(shutdown_timeout)
