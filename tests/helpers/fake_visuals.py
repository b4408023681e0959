"""Loopback fakes of the visual sources' APIs (built on tests/servers.py):

* ``FakePexels2``: Pexels video and photo search and the file downloads.
  Every video search answers the same three clips (a landscape one, a short
  portrait one and a long portrait one), every photo search two photos, so
  "never repeat a clip" and "prefer orientation, then duration" show.
* ``FakePixabay``: Pixabay's ``/api/videos/`` and ``/api/`` (images).
* ``FakeImages``: an OpenAI-compatible ``/v1/images/generations`` answering
  ``b64_json`` or a ``url`` (served at ``/img/…``).

Modes (``mode``, or a queue in ``modes``), applied to API calls, not file
downloads: "ok", "empty" (no results), "photos" (no clips), "401", "429",
"500", "slow" (answers after ``delay`` seconds). FakeImages also has "b64"
(= "ok") and "url". Each records its requests; ``api_calls`` counts API
calls and ``downloads`` file fetches. With ``together`` (a threading.Barrier)
the file downloads (stock) or image requests (FakeImages) are answered only
once that many are in at the same time, else with 503 when it times out.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from urllib.parse import parse_qs, urlparse

from PIL import Image

from tests.helpers.servers import _FakeServer, _Handler, solid_clip_mp4


def png(colour=(30, 200, 60), size=(64, 96)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(colour=(220, 40, 40), size=(64, 96)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG")
    return buf.getvalue()


class _Recorder(_FakeServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.api_calls = 0
        self.downloads = 0
        self.together: threading.Barrier | None = None

    def all_in(self) -> bool:
        """Wait for ``together``; False when it timed out (the requests came one by one)."""
        if self.together is None:
            return True
        try:
            self.together.wait()
            return True
        except threading.BrokenBarrierError:
            return False

    def record(self, handler, body=None) -> dict:
        entry = {
            "path": handler.path,
            "query": parse_qs(urlparse(handler.path).query),
            "authorization": handler.headers.get("Authorization"),
            "body": body,
        }
        with self.lock:
            self.requests.append(entry)
        return entry

    def queries(self, prefix: str) -> list[str]:
        key = "query" if "pexels" in type(self).__name__.lower() else "q"
        return [
            r["query"][key][0] for r in self.requests if urlparse(r["path"]).path.startswith(prefix)
        ]


class _StockHandler(_Handler):
    def do_GET(self):
        owner = self.server.owner
        path = urlparse(self.path).path
        owner.record(self)
        if path.startswith("/files/"):
            with owner.lock:
                owner.downloads += 1
            if not owner.all_in():
                return self._send(503, b"not all at once")
            if path.endswith(".mp4"):
                return self._send(200, solid_clip_mp4(), "video/mp4")
            return self._send(200, jpeg(), "image/jpeg")
        with owner.lock:
            owner.api_calls += 1
        mode = owner.next_mode()
        if mode == "slow":
            owner.release.wait(owner.delay)
        if mode.isdigit():
            return self._send(int(mode), json.dumps({"error": f"fake {mode}"}).encode())
        reply = owner.answer(path, mode)
        if reply is None:
            return self._send(404, b"{}")
        self._send(200, json.dumps(reply).encode())


class FakePexels2(_Recorder):
    handler = _StockHandler
    # (id, width, height, duration): landscape, short portrait, long portrait
    VIDEOS = [(11, 1920, 1080, 30), (12, 1080, 1920, 1), (13, 1080, 1920, 12)]

    def answer(self, path: str, mode: str):
        if path == "/videos/search":
            if mode in ("empty", "photos"):
                return {"videos": []}
            return {
                "videos": [
                    {
                        "id": vid,
                        "width": w,
                        "height": h,
                        "duration": d,
                        "video_files": [
                            {
                                "file_type": "video/mp4",
                                "width": w // 3,
                                "height": h // 3,
                                "link": f"{self.url}/files/v{vid}-small.mp4",
                            },
                            {
                                "file_type": "video/mp4",
                                "width": w // 1.5,
                                "height": h // 1.5,
                                "link": f"{self.url}/files/v{vid}-hd.mp4",
                            },
                            {
                                "file_type": "video/mp4",
                                "width": w * 2,
                                "height": h * 2,
                                "link": f"{self.url}/files/v{vid}-uhd.mp4",
                            },
                        ],
                    }
                    for vid, w, h, d in self.VIDEOS
                ]
            }
        if path == "/v1/search":
            if mode == "empty":
                return {"photos": []}
            return {
                "photos": [
                    {
                        "id": pid,
                        "width": 1080,
                        "height": 1920,
                        "src": {
                            "portrait": f"{self.url}/files/p{pid}.jpg",
                            "landscape": f"{self.url}/files/p{pid}-l.jpg",
                        },
                    }
                    for pid in (21, 22)
                ]
            }
        return None


class FakePixabay(_Recorder):
    handler = _StockHandler

    def answer(self, path: str, mode: str):
        if path == "/api/videos/":
            if mode in ("empty", "photos"):
                return {"total": 0, "totalHits": 0, "hits": []}
            hits = [
                {
                    "id": vid,
                    "duration": d,
                    "videos": {
                        "large": {
                            "url": f"{self.url}/files/x{vid}-large.mp4",
                            "width": 2 * w,
                            "height": 2 * h,
                        },
                        "medium": {
                            "url": f"{self.url}/files/x{vid}-medium.mp4",
                            "width": w,
                            "height": h,
                        },
                        "tiny": {
                            "url": f"{self.url}/files/x{vid}-tiny.mp4",
                            "width": w // 4,
                            "height": h // 4,
                        },
                    },
                }
                for vid, w, h, d in [(31, 1280, 720, 20), (32, 720, 1280, 15)]
            ]
            return {"total": 2, "totalHits": 2, "hits": hits}
        if path == "/api/":
            if mode == "empty":
                return {"total": 0, "totalHits": 0, "hits": []}
            return {
                "total": 1,
                "totalHits": 1,
                "hits": [
                    {
                        "id": 41,
                        "imageWidth": 1080,
                        "imageHeight": 1920,
                        "largeImageURL": f"{self.url}/files/i41.jpg",
                        "webformatURL": f"{self.url}/files/i41-small.jpg",
                    }
                ],
            }
        return None


class _ImagesHandler(_Handler):
    def do_GET(self):
        owner: FakeImages = self.server.owner
        owner.record(self)
        if self.path.startswith("/img/"):
            with owner.lock:
                owner.downloads += 1
            return self._send(200, png(owner.colour), "image/png")
        self._send(404, b"{}")

    def do_POST(self):
        owner: FakeImages = self.server.owner
        body = json.loads(self._read_body() or b"{}")
        if self.path.rstrip("/") != "/v1/images/generations":
            return self._send(404, json.dumps({"error": {"message": "no route"}}).encode())
        owner.record(self, body)
        with owner.lock:
            owner.api_calls += 1
        mode = owner.next_mode()
        if mode == "slow":
            owner.release.wait(owner.delay)
        if not owner.all_in():
            mode = "503"
        if mode.isdigit():
            error = {"error": {"message": f"fake {mode}", "type": "fake", "code": mode}}
            return self._send(int(mode), json.dumps(error).encode())
        if mode == "empty":
            data = []
        elif mode == "url":
            data = [{"url": f"{owner.url}/img/{owner.api_calls}.png"}]
        else:
            data = [{"b64_json": base64.b64encode(png(owner.colour)).decode()}]
        self._send(200, json.dumps({"created": int(time.time()), "data": data}).encode())


class FakeImages(_Recorder):
    handler = _ImagesHandler

    def __init__(self, *args, colour=(30, 200, 60), **kwargs):
        super().__init__(*args, **kwargs)
        self.colour = colour

    @property
    def base_url(self) -> str:
        return self.url + "/v1"
