"""A loopback stand-in for Microsoft Edge's speech service, so the real
edge-tts client (websocket, SSML, message framing, WordBoundary metadata,
voice list) runs offline.

edge-tts 7.3.1 opens ``{WSS_URL}&ConnectionId=…`` (a websocket), sends a
``Path:speech.config`` text message, then ``Path:ssml`` with the text inside
``<prosody … rate='+50%'>``. The service answers ``Path:turn.start``, then
``Path:audio.metadata`` text messages (``{"Metadata": [{"Type":
"WordBoundary", "Data": {"Offset", "Duration", "text": {"Text"}}}]}``, times
in 100 ns ticks) and binary ``Path:audio`` messages (a 2-byte big-endian
header length, the headers, then MP3 bytes), and ``Path:turn.end``.
The voice list is a JSON GET.

This fake speaks each word as a tone: 0.2 s of silence, then per word
0.1 s + 0.06 s a letter of 330 Hz, 0.12 s apart, all divided by the rate
(``+50%`` is 1.5× faster). Its WordBoundary events say exactly where the
tones are, so a test can check the timings the client reports.

Usage::

    with FakeEdge() as edge:          # modes: "ok", "403"
        edge.patch(monkeypatch)
        ...
    edge.requests  # [{"voice", "rate", "text", "boundary"}]
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import tempfile
import threading
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from aiohttp import web

RATE = 24000
LEAD, GAP, TONE_HZ = 0.2, 0.12, 330
VOICES = [
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (de-DE, KatjaNeural)",
        "ShortName": "de-DE-KatjaNeural",
        "Gender": "Female",
        "Locale": "de-DE",
        "FriendlyName": "Microsoft Katja Online (Natural) - German (Germany)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-US, AriaNeural)",
        "ShortName": "en-US-AriaNeural",
        "Gender": "Female",
        "Locale": "en-US",
        "FriendlyName": "Microsoft Aria Online (Natural) - English (United States)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (fr-FR, HenriNeural)",
        "ShortName": "fr-FR-HenriNeural",
        "Gender": "Male",
        "Locale": "fr-FR",
        "FriendlyName": "Microsoft Henri Online (Natural) - French (France)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaoxiaoNeural)",
        "ShortName": "zh-CN-XiaoxiaoNeural",
        "Gender": "Female",
        "Locale": "zh-CN",
        "FriendlyName": "Microsoft Xiaoxiao Online (Natural) - Chinese (Mainland)",
    },
]
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


def word_plan(text: str, speed: float) -> tuple[list[tuple[str, float, float]], float]:
    """(word, start, end) of each tone and the audio's length, in seconds."""
    plan, t = [], LEAD / speed
    for word in re.findall(r"\w[\w'’]*", text):
        length = (0.1 + 0.06 * len(word)) / speed
        plan.append((word, t, t + length))
        t += length + GAP / speed
    return plan, t + LEAD / speed


def tone_mp3(plan: list[tuple[str, float, float]], seconds: float) -> bytes:
    samples = np.zeros(int(seconds * RATE), dtype=np.float64)
    for _, start, end in plan:
        a, b = int(start * RATE), int(end * RATE)
        samples[a:b] = 0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(b - a) / RATE)
    pcm = (samples * 32767).astype("<i2").tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "a.mp3"  # a file: the LAME header lets decoders trim the padding
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-f",
                "s16le",
                "-ar",
                str(RATE),
                "-ac",
                "1",
                "-i",
                "-",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "48k",
                str(out),
            ],
            input=pcm,
            check=True,
            timeout=30,
        )
        return out.read_bytes()


def _text_message(path: str, body: str) -> str:
    return (
        f"X-RequestId:fake\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"Path:{path}\r\n\r\n{body}"
    )


def _audio_message(data: bytes) -> bytes:
    headers = b"X-RequestId:fake\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n"
    return len(headers).to_bytes(2, "big") + headers + data


class FakeEdge:
    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.requests: list[dict] = []
        self.list_requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    # -- server ----------------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/edge/v1", self._speak)
        app.router.add_get("/voices/list", self._list)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())

    async def _list(self, request: web.Request) -> web.Response:
        self.list_requests += 1
        if self.mode == "403":
            return web.Response(status=403, text="Forbidden")
        return web.json_response(VOICES)

    async def _speak(self, request: web.Request):
        if self.mode == "403":
            return web.Response(status=403, text="Forbidden")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        config = await ws.receive_str()
        ssml = await ws.receive_str()
        voice = re.search(r"<voice name='([^']+)'>", ssml).group(1)
        rate = re.search(r"rate='([^']+)'", ssml).group(1)
        text = html.unescape(re.search(r"<prosody[^>]*>(.*)</prosody>", ssml, re.S).group(1))
        self.requests.append(
            {
                "voice": voice,
                "rate": rate,
                "text": text,
                "boundary": '"wordBoundaryEnabled":"true"' in config,
            }
        )
        speed = 1 + int(rate.rstrip("%")) / 100
        plan, seconds = word_plan(text, speed)
        audio = tone_mp3(plan, seconds)
        await ws.send_str(_text_message("turn.start", "{}"))
        for word, start, end in plan:
            meta = {
                "Metadata": [
                    {
                        "Type": "WordBoundary",
                        "Data": {
                            "Offset": round(start * 1e7),
                            "Duration": round((end - start) * 1e7),
                            "text": {
                                "Text": word,
                                "Length": len(word),
                                "BoundaryType": "WordBoundary",
                            },
                        },
                    }
                ]
            }
            await ws.send_str(_text_message("audio.metadata", json.dumps(meta)))
        for i in range(0, len(audio), 4096):
            await ws.send_bytes(_audio_message(audio[i : i + 4096]))
        await ws.send_str(_text_message("turn.end", "{}"))
        await ws.close()
        return ws

    # -- test API --------------------------------------------------------------------
    def patch(self, monkeypatch) -> None:
        """Point the real edge-tts at this server (its module-level URLs)."""
        import edge_tts.communicate
        import edge_tts.voices

        monkeypatch.setattr(
            edge_tts.communicate,
            "WSS_URL",
            f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=fake",
        )
        monkeypatch.setattr(
            edge_tts.voices,
            "VOICE_LIST",
            f"http://127.0.0.1:{self.port}/voices/list?trustedclienttoken=fake",
        )
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)

    def __enter__(self) -> FakeEdge:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
