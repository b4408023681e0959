"""Small servers on 127.0.0.1 that answer like the real services.

* ``FakeOpenAI``: an OpenAI-compatible chat-completions endpoint at
  ``/v1/chat/completions`` (404 elsewhere). HTTP/1.1 with keep-alive
  (Werkzeug's dev server closes every connection, so pooling could not be
  observed against it); counts the TCP connections it accepts and records
  each request's path, JSON body and Authorization header. Its modes: "ok"
  (``script`` as the JSON content), "malformed" (content that is not JSON),
  "length" (the "ok" reply cut off: finish_reason "length"), "400", "401",
  "429", "500" (an OpenAI-style error; the 400 and 401 echo the key, as
  careless servers do), "slow" (waits ``delay`` seconds, then "ok").
  ``scripts`` (a queue) answers the next requests with those scripts, then
  ``script``. ``GET /v1/models`` lists ``models`` as Ollama and LM Studio do
  (an empty list when there are none; ``model_lists`` counts those GETs), so
  the same fake stands in for a local server.
  It also answers ``/v1/audio/speech`` (the "openai" voice) with a WAV of
  one tone per word (``speech_wav``).
* ``FakePexels``: the Pexels search API and its file downloads.
* ``WebhookReceiver``: records webhook POSTs.

(The fake of Google's TTS endpoint is in ``tests/fake_gtts.py``.)

All are context managers; ``mode`` (or a queue of ``modes``) picks the
behaviour per request.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import imageio_ffmpeg

GOOD_SCRIPT = {  # about 70 words in 5 sentences: a 30-second script at the default pace
    "title": "Three Hearts, One Octopus",
    "sentences": [
        "An octopus has three hearts, and each of them has a job of its own.",
        "Two of them push blood through the gills, where it picks up fresh oxygen.",
        "The third pumps that blood around the rest of the body and its eight arms.",
        "That main heart actually stops beating when the octopus swims, which is tiring.",
        "So octopuses prefer to crawl, and you can follow for more ocean oddities.",
    ],
    "description": "Why octopuses need three hearts.",
    "hashtags": ["#octopus", "Ocean", "science"],
    "scenes": [
        {
            "search_terms": ["octopus", "octopus swimming"],
            "visual_prompt": "an octopus on a reef, natural light, documentary style, vertical photo",
        },
        {
            "search_terms": ["octopus gills", "octopus"],
            "visual_prompt": "close-up of octopus gills, natural light, vertical photo",
        },
        {
            "search_terms": ["octopus arms", "octopus"],
            "visual_prompt": "octopus arms spread out, natural light, vertical photo",
        },
        {
            "search_terms": ["octopus swimming"],
            "visual_prompt": "an octopus swimming in open water, natural light, vertical photo",
        },
        {
            "search_terms": ["octopus crawling", "ocean floor"],
            "visual_prompt": "an octopus crawling on the sea floor, natural light, vertical photo",
        },
    ],
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, owner):
        super().__init__(("127.0.0.1", 0), handler)
        self.owner = owner

    def get_request(self):
        sock, addr = super().get_request()
        with self.owner.lock:
            self.owner.connections += 1
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # a client that hung up (e.g. after its timeout) is not a test failure


class _FakeServer:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self, mode: str = "ok", modes: list[str] | None = None, delay: float = 5.0):
        self.mode = mode
        self.modes = list(modes or [])
        self.delay = delay
        self.requests: list[dict] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends "slow"/"hang" replies at shutdown
        self._server = _Server(self.handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def next_mode(self) -> str:
        with self.lock:
            return self.modes.pop(0) if self.modes else self.mode

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms ACK wait

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


_ERRORS = {  # FakeOpenAI's error modes: the message of each
    "400": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with "
    "this model (request made with key {key}).",
    "401": "Incorrect API key provided: {key}",
    "429": "You exceeded your current quota, please check your plan and billing details.",
    "500": "The server had an error while processing your request.",
}


class _OpenAIHandler(_Handler):
    def do_POST(self):
        owner: FakeOpenAI = self.server.owner
        raw = self._read_body()
        if self.path.rstrip("/") == "/v1/audio/transcriptions":
            return self._transcription(owner, raw)
        body = json.loads(raw or b"{}")
        if self.path.rstrip("/") == "/v1/audio/speech":
            return self._speech(owner, body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            error = {"error": {"message": f"no route {self.path}", "type": "not_found"}}
            return self._send(404, json.dumps(error).encode())
        authorization = self.headers.get("Authorization")
        with owner.lock:
            owner.requests.append({"path": self.path, "body": body, "authorization": authorization})
        mode = owner.next_mode()
        if mode == "slow":
            owner.release.wait(owner.delay)
        if mode in _ERRORS:
            key = (authorization or "").removeprefix("Bearer ")
            error = {
                "error": {"message": _ERRORS[mode].format(key=key), "type": "fake", "code": mode}
            }
            return self._send(int(mode), json.dumps(error).encode())
        with owner.lock:
            script = owner.scripts.pop(0) if owner.scripts else owner.script
        content = "this is not json {" if mode == "malformed" else json.dumps(script)
        reply = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length" if mode == "length" else "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60},
        }
        self._send(200, json.dumps(reply).encode())

    def do_GET(self):
        owner: FakeOpenAI = self.server.owner
        if self.path.rstrip("/") != "/v1/models":
            return self._send(404, json.dumps({"error": f"no route {self.path}"}).encode())
        with owner.lock:
            owner.model_lists += 1
        data = [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": "library"}
            for name in owner.models
        ]
        self._send(200, json.dumps({"object": "list", "data": data}).encode())

    def _speech(self, owner, body: dict):
        """``/v1/audio/speech``: a WAV with one 0.25 s tone per word (0.1 s
        apart, 0.3 s of silence before and after), all divided by ``speed``."""
        authorization = self.headers.get("Authorization")
        with owner.lock:
            owner.requests.append({"path": self.path, "body": body, "authorization": authorization})
        mode = owner.next_mode()
        if mode in _ERRORS:
            error = {"error": {"message": _ERRORS[mode].format(key="***"), "type": "fake"}}
            return self._send(int(mode), json.dumps(error).encode())
        if owner.speak is not None:  # real speech: (text, speed) -> WAV bytes
            return self._send(200, owner.speak(body["input"], body.get("speed", 1.0)), "audio/wav")
        self._send(
            200, speech_wav(len(body.get("input", "").split()), body.get("speed", 1.0)), "audio/wav"
        )

    def _transcription(self, owner, raw: bytes):
        """``/v1/audio/transcriptions`` (multipart): ``owner.transcript``
        ({"text", "words": [{"word", "start", "end"}]}) as verbose_json."""
        authorization = self.headers.get("Authorization")
        with owner.lock:
            owner.requests.append({"path": self.path, "body": raw, "authorization": authorization})
        mode = owner.next_mode()
        if mode in _ERRORS:
            error = {"error": {"message": _ERRORS[mode].format(key="***"), "type": "fake"}}
            return self._send(int(mode), json.dumps(error).encode())
        reply = {"task": "transcribe", "language": "english", "duration": 1.0, "segments": []}
        self._send(200, json.dumps({**reply, **(owner.transcript or {})}).encode())


def speech_wav(words: int, speed: float = 1.0, rate: int = 24000) -> bytes:
    import io
    import math
    import struct
    import wave

    def silence(seconds):
        return b"\0\0" * int(seconds * rate / speed)

    def tone(seconds):
        n = int(seconds * rate / speed)
        return b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(n)
        )

    frames = silence(0.3) + silence(0.1).join(tone(0.25) for _ in range(words)) + silence(0.3)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


class FakeOpenAI(_FakeServer):
    handler = _OpenAIHandler

    def __init__(
        self,
        *args,
        script: dict | None = None,
        scripts: list[dict] | None = None,
        models: list[str] | None = None,
        speak=None,
        transcript: dict | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.speak = speak
        self.transcript = transcript
        self.script = script or GOOD_SCRIPT
        self.scripts = list(scripts or [])
        self.models = list(models or [])
        self.model_lists = 0

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


class _WebhookHandler(_Handler):
    def do_POST(self):
        owner: WebhookReceiver = self.server.owner
        body = json.loads(self._read_body() or b"null")
        mode = owner.next_mode()
        more = owner.about(self)
        with owner.lock:
            owner.requests.append({"mode": mode, "body": body, **more})
        self._send(int(mode) if mode.isdigit() else 200, b"{}")


class WebhookReceiver(_FakeServer):
    """Records webhook POSTs; ``modes`` like ["500", "200"] answer in turn."""

    handler = _WebhookHandler

    def about(self, handler) -> dict:
        """More to record of a POST, read while its connection is open (subclasses)."""
        return {}


@lru_cache(maxsize=4)
def solid_clip_mp4(colour: str = "0x1e50dc", seconds: float = 1.0) -> bytes:
    """A small real H.264 clip of one colour, made once with the bundled ffmpeg."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/clip.mp4"  # mp4 needs a seekable output
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"color=c={colour}:size=360x640:rate=25:duration={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                path,
            ],
            check=True,
        )
        with open(path, "rb") as fh:
            return fh.read()


class _PexelsHandler(_Handler):
    def do_GET(self):
        owner: FakePexels = self.server.owner
        path = self.path.split("?")[0]
        with owner.lock:
            owner.requests.append(
                {"path": self.path, "authorization": self.headers.get("Authorization")}
            )
        if path.startswith("/files/"):
            return self._send(200, solid_clip_mp4(), "video/mp4")
        mode = owner.mode
        if mode in ("401", "500"):
            return self._send(int(mode), json.dumps({"error": f"fake {mode}"}).encode())
        if path == "/videos/search":
            videos = (
                []
                if mode in ("empty", "photos")
                else [
                    {
                        "id": 1,
                        "video_files": [
                            {
                                "file_type": "video/mp4",
                                "width": 360,
                                "link": f"{owner.url}/files/small.mp4",
                            },
                            {
                                "file_type": "video/mp4",
                                "width": 1080,
                                "link": f"{owner.url}/files/hd.mp4",
                            },
                            {
                                "file_type": "video/mp4",
                                "width": 2160,
                                "link": f"{owner.url}/files/uhd.mp4",
                            },
                        ],
                    }
                ]
            )
            return self._send(200, json.dumps({"videos": videos}).encode())
        if path == "/v1/search":
            photos = (
                []
                if mode == "empty"
                else [{"id": 2, "src": {"portrait": f"{owner.url}/files/photo.mp4"}}]
            )
            return self._send(200, json.dumps({"photos": photos}).encode())
        self._send(404, b"{}")


class FakePexels(_FakeServer):
    """The Pexels search API (videos and photos) and its file downloads.
    Modes: "ok", "photos" (no videos, photos only), "empty", "401", "500"."""

    handler = _PexelsHandler

    def hits(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r["path"].startswith(prefix))
