"""What a visual source is asked and answers (``Wanted``, ``Pick``, the
video's ``Context``), the ``VisualSource`` protocol, and what sources share:
the pooled HTTP client with the disk cache (``Downloads``), a source that
needs no key (``NoKey``), and fetching several files at once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import httpx

from cache import Cache, make_key
from reelsmith.core.exceptions import SourceUnavailable
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.settings import Settings
from reelsmith.visuals.icons.matching import Icon
from reelsmith.visuals.sources.files import media_file

MAX_DOWNLOAD_MB = 200


@dataclass
class Wanted:
    index: int  # the sentence's position in the script
    sentence: str
    terms: list[str]  # search queries, best first
    prompt: str  # for an image model
    seconds: float  # about how long the sentence is on screen
    words: list[str] | None = None  # its content words, the icons source's (None: every word)


@dataclass
class Pick:
    path: Path | None  # None: this source has nothing for the sentence
    note: str  # what was used, or why nothing
    icon: Icon | None = None  # the icons source's icon for the sentence


@dataclass
class Context:
    """What every source of one video shares."""

    topic: str
    aspect: str = "9:16"
    language: str | None = "en"  # the script's (the icons source matches words in it)
    uploads: list[Path] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # clip / photo ids already in this video
    # Told of each file a source fetched, in this thread (progress; it may raise,
    # e.g. TaskCanceled, and the fetches not started are dropped)
    fetched: Callable[[Pick], None] | None = None

    @property
    def orientation(self) -> str:
        return {"9:16": "portrait", "16:9": "landscape"}.get(self.aspect, "square")


class VisualSource(Protocol):
    name: ClassVar[str]
    key: ClassVar[str | None]  # the setting it needs, named as in the environment (None: none)

    def __init__(self, settings: Settings, cache: Cache): ...

    def missing(self) -> str | None:
        """Why it cannot be used here (no key), or None."""

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        """One pick per wanted sentence, in order."""


class NoKey:
    """A source that needs no key and no client: it is always usable."""

    key = None

    def __init__(self, settings: Settings, cache: Cache):
        pass

    def missing(self) -> str | None:
        return None


class Downloads(PooledHTTP):
    """Files fetched over the pooled client, through the disk cache."""

    name: ClassVar[str]
    _http_timeout = 30.0

    def __init__(self, settings: Settings, cache: Cache):
        self.settings = settings
        self.cache = cache
        self.timeout = settings.visuals.visuals_timeout

    def get_json(self, url: str, params: dict, headers: dict | None = None) -> dict:
        try:
            resp = self._get_http_client().get(
                url, params=params, headers=headers, timeout=self.timeout
            )
            resp.raise_for_status()
            return resp.json()
        except httpx.HTTPStatusError as exc:
            raise SourceUnavailable(http_reason(exc.response.status_code)) from exc
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"timed out after {self.timeout:g} s") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise SourceUnavailable(f"unreachable ({type(exc).__name__})") from exc

    def cached_search(self, what: str, query: str, ctx: Context, fetch) -> list[dict]:
        key = make_key("visuals", self.name, what, query, ctx.orientation)
        found = self.cache.get(key)
        if found is None:
            found = fetch()
            self.cache.set(key, found)
        return found

    def file(self, url: str, suffix: str) -> Path:
        """The file at ``url``, through the cache."""
        key = make_key("visuals", self.name, "file", url)
        return media_file(self.cache, key, suffix, lambda: self.download(url))

    def download(self, url: str) -> bytes:
        try:
            with self._get_http_client().stream(
                "GET", url, follow_redirects=True, timeout=self.timeout
            ) as resp:
                resp.raise_for_status()
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > MAX_DOWNLOAD_MB << 20:
                        raise SourceUnavailable(f"a file over {MAX_DOWNLOAD_MB} MB")
                return bytes(data)
        except httpx.HTTPStatusError as exc:
            raise SourceUnavailable(f"download: {http_reason(exc.response.status_code)}") from exc
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"download timed out after {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"download failed ({type(exc).__name__})") from exc


def at_once(fn, items: list, limit: int, each: Callable | None = None) -> list:
    """``fn`` of each item, up to ``limit`` at a time; the results in order,
    each also given to ``each`` (in this thread) as it comes. If ``each``
    raises, the items not yet started are dropped."""
    results = []
    pool = (
        ThreadPoolExecutor(min(limit, len(items)), thread_name_prefix="visuals")
        if limit > 1 and len(items) > 1
        else None
    )
    try:
        for result in pool.map(fn, items) if pool else map(fn, items):
            results.append(result)
            if each is not None:
                each(result)
        return results
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def http_reason(code: int) -> str:
    if code in (401, 403):
        return f"the API key was rejected (HTTP {code})"
    if code == 429:
        return "rate limited (HTTP 429)"
    return f"HTTP {code}"


def url_suffix(url: str, default: str) -> str:
    suffix = Path(httpx.URL(url).path).suffix.lower()
    return suffix if suffix in (".jpg", ".jpeg", ".png", ".webp", ".mp4") else default
