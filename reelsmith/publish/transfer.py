"""What both platforms' uploads share: one httpx client that trusts
SSL_CERT_FILE, a file read in pieces (memory stays flat for any size), and
retries with exponential backoff."""

from __future__ import annotations

import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from reelsmith.core.exceptions import PublishError, UploadInterrupted
from reelsmith.core.settings import PublishSettings

PIECE = 1 << 20  # bytes read from the file at a time
MAX_WAIT = 60.0  # seconds: the longest wait between tries
NAMES = {"youtube": "YouTube", "tiktok": "TikTok"}
LOOKUP_TIMEOUT = 5.0  # seconds for "as whom": a slow answer must not hold a publication up


SESSION_PARAMS = re.compile(r"\b(upload_id|upload_token)=[^&\s\"']+")


class RedactUploadURLs(logging.Filter):
    """httpx logs every request's URL (httpcore, at DEBUG, the answers' headers);
    an upload session's URL is a credential (whoever has it can send bytes), so
    its ids are blanked in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "upload" in record.msg:
            record.msg = SESSION_PARAMS.sub(r"\1=…", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                SESSION_PARAMS.sub(r"\1=…", str(a)) if "upload" in str(a) else a
                for a in record.args
            )
        return True


_REDACT = RedactUploadURLs()
LOGGERS = ("httpx", "httpcore.http11", "httpcore.connection")  # request lines; DEBUG: headers


def client(settings: PublishSettings) -> httpx.Client:
    """An HTTPS client; a CA bundle in SSL_CERT_FILE is trusted (a gateway, a fake)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)
    verify = (
        ssl.create_default_context(cafile=str(settings.ssl_cert_file))
        if settings.ssl_cert_file
        else True
    )
    return httpx.Client(verify=verify, timeout=settings.publish_timeout, follow_redirects=False)


def pieces(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` (exclusive) of ``path``, a piece at a time."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            data = fh.read(min(PIECE, left))
            if not data:
                raise PublishError(f"{path.name} got shorter during the upload", platform="")
            left -= len(data)
            yield data


def send(http: httpx.Client, method: str, url: str, platform: str, **kwargs) -> httpx.Response:
    """One request; a dropped connection or a 5xx becomes UploadInterrupted."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise UploadInterrupted(
            f"the connection to {NAMES.get(platform, platform)} dropped ({type(exc).__name__})",
            platform=platform,
        ) from None
    if response.status_code >= 500:
        raise UploadInterrupted(
            f"{NAMES.get(platform, platform)} answered {response.status_code}",
            platform=platform,
            reason="5xx",
        )
    return response


class Backoff:
    """Counts tries after UploadInterrupted and waits 1, 2, 4... times the first
    wait (at most a minute); gives up with a plain message after ``retries``."""

    def __init__(self, settings: PublishSettings, sleep: Callable[[float], None] = time.sleep):
        self.retries = settings.publish_retries
        self.first = settings.publish_backoff
        self.sleep = sleep
        self.tries = 0
        self.resumed = 0  # interruptions recovered from, for the notes

    def wait(self, exc: UploadInterrupted) -> None:
        self.tries += 1
        if self.tries > self.retries:
            raise PublishError(
                f"gave up after {self.retries} tries: {exc.message}",
                platform=exc.platform,
                reason=exc.reason,
            ) from None
        self.resumed += 1
        self.sleep(min(self.first * 2 ** (self.tries - 1), MAX_WAIT))

    def succeeded(self) -> None:
        self.tries = 0


def json_of(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
