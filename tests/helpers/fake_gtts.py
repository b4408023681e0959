"""A local stand-in for Google Translate's ``batchexecute`` endpoint, so the
real gTTS code (request building, HTTP, reply parsing) runs offline.

gTTS 2.5.4 POSTs ``f.req=<url-quoted JSON>`` with the RPC ``jQ1olc`` and reads
the reply line by line: the line holding ``jQ1olc`` must match
``jQ1olc","\\[\\\\"(.*)\\\\"]``, i.e. the audio is a base64 MP3 inside a JSON
string that itself holds a JSON list: ``"[\\"<base64>\\"]"``.

Usage::

    with FakeGoogleTTS(modes=["ok", "error500"]) as google:
        google.patch(monkeypatch)        # point gTTS at this server
        ...
    google.request_count, google.requests  # what gTTS sent

Modes, taken per request from ``modes`` and then ``mode``:
"ok" (a real 0.8 s MP3 of a 440 Hz tone), "error500", "noaudio" (200 but no
audio line), "hang" (reads the request, never answers until the server stops).
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import threading
import urllib.parse
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import imageio_ffmpeg

TONE_SECONDS = 0.8
TONE_HZ = 440
MODES = ("ok", "error500", "noaudio", "hang")
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


@lru_cache(maxsize=1)
def tone_mp3() -> bytes:
    """A real MP3 (mono 24 kHz, like Google's), made once with the bundled ffmpeg.
    Written to a file, not a pipe: only a seekable output gets the LAME header
    whose encoder delay/padding lets decoders return exactly TONE_SECONDS
    (from a pipe it decodes 64 ms longer)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tone.mp3"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-nostdin",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency={TONE_HZ}:duration={TONE_SECONDS}:sample_rate=24000",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "32k",
                str(path),
            ],
            capture_output=True,
            check=True,
            timeout=30,
        )
        return path.read_bytes()


def batchexecute_reply(audio: bytes) -> bytes:
    """A reply shaped like Google's: XSSI guard, then length-prefixed JSON chunks."""
    payload = json.dumps([base64.b64encode(audio).decode()])
    chunks = [
        [
            ["wrb.fr", "jQ1olc", payload, None, None, None, "generic"],
            ["di", 52],
            ["af.httprm", 52, "-1234567890", 1],
        ],
        [["e", 4, None, None, 130]],
    ]
    body = ")]}'\n"
    for chunk in chunks:
        text = json.dumps(chunk, separators=(",", ":"))
        body += f"\n{len(text)}\n{text}"
    return body.encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        mode = fake._record(self.path, body)
        if mode == "hang":
            fake._stopping.wait()  # no reply; the client's timeout must fire
            self.close_connection = True
            return
        if mode == "error500":
            return self._send(500, b"Internal Server Error", "text/plain")
        with fake._lock:
            text = fake.requests[-1]["text"]
        audio_line = batchexecute_reply(fake.speak(text) if fake.speak else tone_mp3())
        if mode == "noaudio":  # a well-formed reply for some other RPC
            audio_line = audio_line.replace(b"jQ1olc", b"MkEWBc")
        self._send(200, audio_line, "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in "hang" never keeps the process alive
    block_on_close = False  # server_close() does not join handler threads

    def __init__(self, fake: FakeGoogleTTS):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeGoogleTTS:
    def __init__(self, mode: str = "ok", *, modes: list[str] | None = None, speak=None):
        for m in [mode, *(modes or [])]:
            if m not in MODES:
                raise ValueError(f"unknown mode {m!r} (choose from {', '.join(MODES)})")
        self.mode = mode
        self.modes = list(modes or [])
        self.speak = speak  # text -> MP3 bytes of real speech ("ok" answers a tone without it)
        self.requests: list[dict] = []  # {"path", "text", "lang", "mode"} per request
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def patch(self, monkeypatch) -> None:
        """Point the real gTTS at this server. gtts/tts.py imported
        ``_translate_url`` by name, so it is replaced there. gTTS passes
        ``urllib.request.getproxies()`` to requests, which would send even
        127.0.0.1 through a proxy, so proxy variables are cleared."""
        import gtts.tts

        url = self.url
        monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": f"{url}/{path}")
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)

    def _record(self, path: str, body: str) -> str:
        """Log one request (the sentence and language gTTS packed into
        ``f.req``) and return the mode to answer it with."""
        rpc = json.loads(urllib.parse.parse_qs(body)["f.req"][0])
        text, lang = json.loads(rpc[0][0][1])[:2]
        with self._lock:
            mode = self.modes.pop(0) if self.modes else self.mode
            self.requests.append({"path": path, "text": text, "lang": lang, "mode": mode})
        return mode

    def __enter__(self) -> FakeGoogleTTS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()  # release "hang" handlers
        self._server.shutdown()  # returns once serve_forever has stopped polling
        self._server.server_close()
        self._thread.join(timeout=5)
