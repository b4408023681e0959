"""HTTPS fakes of YouTube's Data API v3 and TikTok's Content Posting API on
127.0.0.1, with a trustme CA (``TLS``): what the publishers talk to in tests
and in benchmarks/publish.py.

* ``FakeYouTube``: the resumable ``videos.insert`` (``POST
  /upload/youtube/v3/videos?uploadType=resumable`` answers a session URL;
  ``PUT`` chunks with ``Content-Range``, 308 with ``Range`` until the last,
  ``bytes */N`` asks where to resume), ``thumbnails.set``, ``channels.list``
  (mine) and an OAuth token endpoint (``/token``). ``fail_at``: the byte
  offset where one chunk is cut: the fake keeps the bytes before it and
  answers 503 (then closes), ``fail_times`` times in a row. ``mode``: "ok", "quota" (403 quotaExceeded),
  "lock_private" (the video comes back private whatever was asked).
  ``revoked``: the access token and the refresh token are refused.
* ``FakeTikTok``: inbox and direct ``init``, chunk ``PUT``s with
  ``Content-Range`` (206, then 201), ``status/fetch`` (processing once, then
  SEND_TO_USER_INBOX or PUBLISH_COMPLETE), ``user/info``. ``fail_chunk``: a
  chunk index answered 503 once. ``mode``: "ok", "unaudited" (a direct post
  is refused), "revoked".

Uploaded bytes go to a file (``received``), so a 500 MB upload costs no memory.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import trustme

GOOD_TOKEN = "ya29.test-access-token"
TIKTOK_TOKEN = "act.test-tiktok-token"


class TLS:
    """A trustme CA and a certificate for 127.0.0.1; ``ca_file`` is the bundle to trust."""

    def __init__(self, folder: Path):
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1")
        self.ca_file = folder / "fake-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert.configure_cert(ctx)
        return ctx


def _read(handler, n: int, sink=None) -> int:
    """Read ``n`` body bytes into ``sink`` (a file) a MB at a time; returns bytes read."""
    got = 0
    while got < n:
        data = handler.rfile.read(min(1 << 20, n - got))
        if not data:
            break
        if sink is not None:
            sink.write(data)
        got += len(data)
    return got


class _Fake:
    """A threaded HTTPS server on a free loopback port; a context manager."""

    def __init__(self, tls: TLS, folder: Path):
        self.tls = tls
        self.folder = folder
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PUT(self):
                fake._handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = tls.server_context().wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h, method):
        parts = urlsplit(h.path)
        with self.lock:
            self.requests.append((method, parts.path, dict(h.headers)))
        self.handle(h, method, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})

    @staticmethod
    def reply(h, status: int, body=None, headers: dict | None = None, close: bool = False):
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if body is not None:
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def body(h) -> bytes:
        return h.rfile.read(int(h.headers.get("Content-Length") or 0))


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while data := fh.read(1 << 20):
            sha.update(data)
    return sha.hexdigest()


class FakeYouTube(_Fake):
    def __init__(
        self, tls: TLS, folder: Path, *, mode="ok", fail_at: int | None = None, fail_times=1
    ):
        super().__init__(tls, folder)
        self.mode = mode
        self.fail_at = fail_at
        self.fail_times = fail_times  # 503s in a row at fail_at
        self.failed = 0  # chunks cut with a 503
        self.revoked = False
        self.metadata: dict | None = None
        self.received = folder / "youtube-received.bin"
        self.size = 0
        self.kept = 0  # bytes of the upload held so far
        self.thumbnail: bytes | None = None
        self.video_id = "vid" + uuid.uuid4().hex[:8]
        self.sessions = 0

    def credentials(self, **extra) -> dict:
        """An authorized-user JSON, as google-auth writes it, for this fake."""
        return {
            "token": GOOD_TOKEN,
            "refresh_token": "1//test-refresh-token",
            "client_id": "test-client.apps.googleusercontent.com",
            "client_secret": "test-secret",
            "token_uri": f"{self.url}/token",
            **extra,
        }

    def _authorized(self, h) -> bool:
        if self.revoked or h.headers.get("Authorization") != f"Bearer {GOOD_TOKEN}":
            error = {
                "code": 401,
                "message": "Invalid Credentials",
                "errors": [{"reason": "authError"}],
            }
            self.reply(h, 401, {"error": error})
            return False
        return True

    def handle(self, h, method, path, query):
        if path == "/token":
            data = self.body(h)
            if self.revoked:
                body = {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
                return self.reply(h, 400, body)
            body = {"access_token": GOOD_TOKEN, "expires_in": 3599, "token_type": "Bearer"}
            if b"grant_type=authorization_code" in data:
                body["refresh_token"] = "1//test-refresh-token"
            return self.reply(h, 200, body)
        if method == "POST" and path == "/upload/youtube/v3/videos":
            metadata = json.loads(self.body(h) or b"{}")
            if not self._authorized(h):
                return None
            if self.mode == "quota":
                error = {
                    "code": 403,
                    "message": "The request cannot be completed because you have exceeded your quota.",
                    "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
                }
                return self.reply(h, 403, {"error": error})
            self.metadata, self.size, self.kept = (
                metadata,
                int(h.headers["X-Upload-Content-Length"]),
                0,
            )
            self.received.write_bytes(b"")
            self.sessions += 1
            location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id=u{self.sessions}"
            return self.reply(h, 200, {}, {"Location": location})
        if method == "PUT" and path == "/upload/youtube/v3/videos":
            return self._chunk(h)
        if method == "POST" and path == "/upload/youtube/v3/thumbnails/set":
            data = self.body(h)
            if self._authorized(h):
                self.thumbnail = data
                self.reply(h, 200, {"items": [{"default": {"url": "https://i.ytimg.com/x.jpg"}}]})
            return None
        if method == "GET" and path == "/youtube/v3/channels":
            if self._authorized(h):
                self.reply(
                    h, 200, {"items": [{"id": "UC123", "snippet": {"title": "Test Channel"}}]}
                )
            return None
        return self.reply(h, 404, {"error": {"code": 404, "message": "not found"}})

    def _range(self) -> dict:
        return {"Range": f"bytes=0-{self.kept - 1}"} if self.kept else {}

    def _chunk(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        found = re.fullmatch(
            r"bytes (\d+)-(\d+)/(\d+)|bytes \*/(\d+)", h.headers.get("Content-Range", "")
        )
        if not found:
            _read(h, n)
            return self.reply(h, 400, {"error": {"code": 400, "message": "bad Content-Range"}})
        if self.revoked:
            _read(h, n)
            return self._authorized(h)
        if found.group(4) is not None:  # where to resume
            return self.reply(h, 308, None, self._range())
        start = int(found.group(1))
        if start != self.kept:  # must continue exactly where the kept bytes end
            _read(h, n)
            return self.reply(
                h, 400, {"error": {"code": 400, "message": f"expected byte {self.kept}"}}
            )
        with open(self.received, "ab") as sink:
            cut = self.fail_at is not None and start <= self.fail_at < start + n
            if cut and self.failed < self.fail_times:
                self.kept += _read(h, self.fail_at - start, sink)
                self.failed += 1
                return self.reply(
                    h, 503, {"error": {"code": 503, "message": "Backend Error"}}, close=True
                )
            self.kept += _read(h, n, sink)
        if self.kept < self.size:
            return self.reply(h, 308, None, self._range())
        status = dict(self.metadata["status"])
        if self.mode == "lock_private":
            status["privacyStatus"] = "private"
        resource = {
            "kind": "youtube#video",
            "id": self.video_id,
            "snippet": self.metadata["snippet"],
            "status": status,
        }
        return self.reply(h, 200, resource)


class FakeTikTok(_Fake):
    def __init__(self, tls: TLS, folder: Path, *, mode="ok", fail_chunk: int | None = None):
        super().__init__(tls, folder)
        self.mode = mode
        self.fail_chunk = fail_chunk
        self.failed = 0
        self.inits: list[tuple[str, dict]] = []
        self.chunks: list[str] = []  # the Content-Range of every chunk kept
        self.received = folder / "tiktok-received.bin"
        self.size = 0
        self.polls = 0
        self.publish_id = "v_inbox_file~v2.7" + uuid.uuid4().hex[:8]
        self.challenge: str | None = None
        self.token_requests: list[dict] = []

    @staticmethod
    def answer(h, status, data=None, code="ok", message=""):
        _Fake.reply(
            h,
            status,
            {"data": data or {}, "error": {"code": code, "message": message, "log_id": "L1"}},
        )

    def _authorized(self, h) -> bool:
        if self.mode == "revoked" or h.headers.get("Authorization") != f"Bearer {TIKTOK_TOKEN}":
            message = "The access token is invalid or not found in the request."
            self.answer(h, 401, None, "access_token_invalid", message)
            return False
        return True

    def handle(self, h, method, path, query):
        if method == "PUT" and path == "/upload/":
            return self._chunk(h)
        if path == "/v2/oauth/token/":
            return self._token(h)
        body = json.loads(self.body(h) or b"{}") if method == "POST" else {}
        if not self._authorized(h):
            return None
        if path in ("/v2/post/publish/inbox/video/init/", "/v2/post/publish/video/init/"):
            direct = path == "/v2/post/publish/video/init/"
            if (
                direct
                and self.mode == "unaudited"
                and body["post_info"]["privacy_level"] != "SELF_ONLY"
            ):
                code = "unaudited_client_can_only_post_to_private_accounts"
                return self.answer(h, 403, None, code, "Please review our integration guidelines.")
            self.inits.append((path, body))
            self.size = body["source_info"]["video_size"]
            self.received.write_bytes(b"")
            upload = f"{self.url}/upload/?upload_id=1&upload_token=t"
            return self.answer(h, 200, {"publish_id": self.publish_id, "upload_url": upload})
        if path == "/v2/post/publish/status/fetch/":
            self.polls += 1
            if self.polls == 1:
                return self.answer(
                    h, 200, {"status": "PROCESSING_UPLOAD", "uploaded_bytes": self.size}
                )
            if self.inits and self.inits[-1][0].endswith("/inbox/video/init/"):
                return self.answer(h, 200, {"status": "SEND_TO_USER_INBOX"})
            return self.answer(
                h, 200, {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7301]}
            )
        if path == "/v2/user/info/":
            return self.answer(h, 200, {"user": {"open_id": "o1", "display_name": "tiktok tester"}})
        return self.answer(h, 404, None, "not_found", path)

    def _token(self, h):
        """TikTok's token endpoint: a code whose verifier hashes (hex SHA-256) to
        ``challenge`` (set by the test's "browser"), or a refresh token."""
        form = {k: v[0] for k, v in parse_qs(self.body(h).decode()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") == "authorization_code":
            verifier = form.get("code_verifier", "")
            ok = (
                form.get("code") == "the-code"
                and hashlib.sha256(verifier.encode()).hexdigest() == self.challenge
            )
        else:
            ok = form.get("refresh_token") == "rft.test" and self.mode != "revoked"
        if not ok:
            return _Fake.reply(
                h,
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Code verifier or code challenge is invalid.",
                },
            )
        body = {
            "access_token": TIKTOK_TOKEN,
            "refresh_token": "rft.test",
            "open_id": "o1",
            "expires_in": 86400,
            "refresh_expires_in": 31536000,
            "scope": "video.upload",
            "token_type": "Bearer",
        }
        return _Fake.reply(h, 200, body)

    def _chunk(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("Content-Range", ""))
        if not found or int(found.group(2)) - int(found.group(1)) + 1 != n:
            _read(h, n)
            return self.answer(h, 400, None, "invalid_params", "bad Content-Range")
        index = len(self.chunks)
        if index == self.fail_chunk and not self.failed:
            _read(h, n)
            self.failed += 1
            return self.answer(h, 503, None, "internal_error", "try again")
        with open(self.received, "ab") as sink:
            _read(h, n, sink)
        self.chunks.append(h.headers["Content-Range"])
        done = int(found.group(2)) + 1 == int(found.group(3))
        return _Fake.reply(h, 201 if done else 206, None)
