"""Stock footage from Pexels: one clip (or photo) per sentence.

With ``PEXELS_API_KEY`` set, each sentence's keywords become one search on
the Pexels API (videos first, then photos), through one pooled
``httpx.Client`` shared by every instance. Downloads are cached on disk by
URL. No key, no result or any error means the generated background is used
instead, and ``StockResult.note`` says why, so the task can tell the user.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from config import Settings
from http_pool import PooledHTTP

_STOPWORDS = set(
    "a an and are as at be but by can do does for from has have how i in is it its of on or so "
    "that the their them there they this to was what when where which who why will with you your "
    "about into than then these those we our us my me one two more most very just also even "
    "follow next time know here like".split()
)


@dataclass
class StockResult:
    paths: list[Path] = field(default_factory=list)   # one per sentence, in order
    source: str = "generated"                          # "pexels" or "generated"
    note: str | None = None                            # why the generated background was used


def keywords(sentence: str, topic: str = "", limit: int = 3) -> str:
    """A short search query: the sentence's longest content words, else the topic's."""
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", sentence)]
    content = sorted({w for w in words if w not in _STOPWORDS and len(w) > 3},
                     key=lambda w: (-len(w), words.index(w)))
    if not content:
        content = [w for w in re.findall(r"[^\W\d_]+", topic.lower()) if w not in _STOPWORDS]
    return " ".join(content[:limit])


class StockFootage(PooledHTTP):
    _http_timeout = 20.0

    def __init__(self, settings: Settings):
        self.api_key = settings.pexels_api_key
        self.base_url = settings.pexels_base_url.rstrip("/")
        self.folder = Path(settings.cache_dir) / "stock"
        self.downloads = 0  # real downloads (cache hits don't count)

    def for_sentences(self, sentences: list[str], topic: str, portrait: bool = True) -> StockResult:
        """One clip or photo per sentence, or the reason there are none."""
        if not self.api_key:
            return StockResult(note="no PEXELS_API_KEY: generated background")
        paths = []
        try:
            for sentence in sentences:
                url = self._search(keywords(sentence, topic), portrait)
                if url is None:
                    url = self._search(keywords(topic, topic), portrait)
                if url is None:
                    return StockResult(note=f"Pexels found nothing for {topic!r}: generated background")
                paths.append(self._download(url))
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            reason = "the API key was rejected" if code in (401, 403) else f"HTTP {code}"
            return StockResult(note=f"Pexels: {reason}: generated background")
        except httpx.HTTPError as exc:
            return StockResult(note=f"Pexels unreachable ({type(exc).__name__}): generated background")
        return StockResult(paths=paths, source="pexels")

    def _search(self, query: str, portrait: bool) -> str | None:
        if not query:
            return None
        http = self._get_http_client()
        headers = {"Authorization": self.api_key}
        orientation = "portrait" if portrait else "landscape"
        params = {"query": query, "orientation": orientation, "per_page": 5}
        videos = http.get(f"{self.base_url}/videos/search", params=params, headers=headers)
        videos.raise_for_status()
        for video in videos.json().get("videos", []):
            files = [f for f in video.get("video_files", [])
                     if f.get("file_type") == "video/mp4" and f.get("link")]
            if files:  # the smallest file that is still at least 720 px wide
                width = lambda f: f.get("width") or 0  # noqa: E731
                wide = [f for f in files if width(f) >= 720]
                return (min(wide, key=width) if wide else max(files, key=width))["link"]
        photos = http.get(f"{self.base_url}/v1/search", params=params, headers=headers)
        photos.raise_for_status()
        for photo in photos.json().get("photos", []):
            src = photo.get("src", {})
            link = src.get("portrait" if portrait else "landscape") or src.get("large2x")
            if link:
                return link
        return None

    def _download(self, url: str) -> Path:
        """The file for ``url``, downloaded once (cached on disk by URL)."""
        suffix = Path(httpx.URL(url).path).suffix.lower() or ".mp4"
        path = self.folder / (hashlib.sha256(url.encode()).hexdigest() + suffix)
        if path.exists():
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh, \
                    self._get_http_client().stream("GET", url, follow_redirects=True) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_bytes():
                    fh.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.downloads += 1
        return path
