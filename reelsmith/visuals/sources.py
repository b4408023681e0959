"""Where each sentence's picture comes from: one ``VisualSource`` protocol and
one table of sources.

A source gets the sentences that still need a picture (``Wanted``: the
sentence, its search terms, its image prompt, about how long it shows) and
answers one ``Pick`` per sentence: a file, or none and why. ``choose``
asks the sources in turn, sentence by sentence, so a sentence one source
cannot serve (429, 5xx, a timeout, no result) goes to the next; the last
one is always ``generated`` (offline). The result says which source served
each sentence and why.

Adding a source is one class (``name``, ``missing``, ``pick``) and one line
in ``SOURCES``. Stock and image files go through the disk cache
(``cache.Cache``: size-bounded, TTL), keyed by source and query, URL or
prompt, so a repeat request calls no API. Files are fetched several at once:
stock files ``DOWNLOADS_AT_ONCE``, AI images ``IMAGES_PARALLEL``.
"""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import httpx

from cache import Cache, make_key
from reelsmith.core.exceptions import BadTransition, UnknownVisuals
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.settings import Settings
from reelsmith.visuals.backgrounds import MAX_TRANSITION_SECONDS, TRANSITIONS

WORDS_PER_SECOND = 2.6  # to guess how long a sentence shows before it is spoken
MAX_DOWNLOAD_MB = 200
DOWNLOADS_AT_ONCE = 4  # stock files fetched at once (file downloads; the searches go one by one)


# -- what a source is asked, and answers ------------------------------------------
@dataclass
class Wanted:
    index: int  # the sentence's position in the script
    sentence: str
    terms: list[str]  # search queries, best first
    prompt: str  # for an image model
    seconds: float  # about how long the sentence is on screen


@dataclass
class Pick:
    path: Path | None  # None: this source has nothing for the sentence
    note: str  # what was used, or why nothing


@dataclass
class Context:
    """What every source of one video shares."""

    topic: str
    aspect: str = "9:16"
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


@dataclass
class VisualsResult:
    paths: list[Path | None] = field(default_factory=list)  # per sentence; None: generated
    source: str = "generated"  # the source of every sentence, or several joined by ","
    note: str | None = None  # why a source was passed over (None: the first choice served all)
    per_sentence: list[dict] = field(default_factory=list)  # [{"source", "note"}]


# -- the sources ------------------------------------------------------------------
class _Unavailable(Exception):
    """The source failed in a way that will not get better within this video
    (rate limit, server error, timeout, key rejected)."""


class _Downloads(PooledHTTP):
    """Files fetched over the pooled client, through the disk cache."""

    _http_timeout = 30.0

    def __init__(self, settings: Settings, cache: Cache):
        self.settings = settings
        self.cache = cache
        self.timeout = settings.visuals_timeout

    def _get_json(self, url: str, params: dict, headers: dict | None = None) -> dict:
        try:
            resp = self._get_http_client().get(
                url, params=params, headers=headers, timeout=self.timeout
            )
            resp.raise_for_status()
            return resp.json()
        except httpx.HTTPStatusError as exc:
            raise _Unavailable(_http_reason(exc.response.status_code)) from exc
        except httpx.TimeoutException as exc:
            raise _Unavailable(f"timed out after {self.timeout:g} s") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise _Unavailable(f"unreachable ({type(exc).__name__})") from exc

    def _cached_search(self, what: str, query: str, ctx: Context, fetch) -> list[dict]:
        key = make_key("visuals", self.name, what, query, ctx.orientation)
        found = self.cache.get(key)
        if found is None:
            found = fetch()
            self.cache.set(key, found)
        return found

    def _file(self, url: str, suffix: str) -> Path:
        """The file at ``url``, through the cache."""
        key = make_key("visuals", self.name, "file", url)
        return media_file(self.cache, key, suffix, lambda: self._download(url))

    def _download(self, url: str) -> bytes:
        try:
            with self._get_http_client().stream(
                "GET", url, follow_redirects=True, timeout=self.timeout
            ) as resp:
                resp.raise_for_status()
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > MAX_DOWNLOAD_MB << 20:
                        raise _Unavailable(f"a file over {MAX_DOWNLOAD_MB} MB")
                return bytes(data)
        except httpx.HTTPStatusError as exc:
            raise _Unavailable(f"download: {_http_reason(exc.response.status_code)}") from exc
        except httpx.TimeoutException as exc:
            raise _Unavailable(f"download timed out after {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _Unavailable(f"download failed ({type(exc).__name__})") from exc


class _Stock(_Downloads):
    """A stock library: per sentence, its terms are searched in turn (clips
    first, then photos) and the best unused result is taken; then the files
    are downloaded, ``DOWNLOADS_AT_ONCE`` at a time."""

    kind_label = {"video": "clip", "photo": "photo"}

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        chosen, down = [], None  # per sentence: (the candidate or None, the note)
        for want in wanted:
            if down:
                chosen.append((None, down))
                continue
            try:
                chosen.append(self._choose(want, ctx))
            except _Unavailable as exc:
                down = f"{self.name}: {exc}"
                chosen.append((None, down))

        def fetch(choice: tuple[dict | None, str]) -> Pick:
            best, note = choice
            if best is None:
                return Pick(None, note)
            try:
                return Pick(self._file(best["url"], best["suffix"]), note)
            except _Unavailable as exc:
                return Pick(None, f"{self.name}: {exc}")

        return _at_once(fetch, chosen, DOWNLOADS_AT_ONCE, ctx.fetched)

    def _choose(self, want: Wanted, ctx: Context) -> tuple[dict | None, str]:
        """The best unused candidate for ``want`` (now marked used) and the
        note, or None and why."""
        for query in want.terms:
            for what in ("video", "photo"):
                found = self._cached_search(what, query, ctx, lambda: self.search(what, query, ctx))
                best = best_candidate(found, want.seconds, ctx)
                if best is not None:
                    ctx.used.add(best["id"])
                    return best, f"{self.name} {self.kind_label[what]} for {query!r}"
        tried = ", ".join(repr(q) for q in want.terms) or "no search terms"
        return None, f"{self.name}: nothing new for {tried}"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        """Candidates: dicts with id, url, suffix, width, height, duration (0 for photos)."""
        raise NotImplementedError


class Pexels(_Stock):
    name = "pexels"
    key = "PEXELS_API_KEY"

    def missing(self) -> str | None:
        return None if self.settings.pexels_api_key else "no PEXELS_API_KEY"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        base = self.settings.pexels_base_url.rstrip("/")
        headers = {"Authorization": self.settings.pexels_api_key}
        params = {"query": query, "orientation": ctx.orientation, "per_page": 10}
        if what == "video":
            found = []
            for video in self._get_json(f"{base}/videos/search", params, headers).get("videos", []):
                files = [
                    f
                    for f in video.get("video_files", [])
                    if f.get("file_type") == "video/mp4" and f.get("link")
                ]
                if files:
                    f = smallest_sharp(files, lambda f: (f.get("width") or 0, f.get("height") or 0))
                    found.append(
                        {
                            "id": f"pexels:video:{video.get('id')}",
                            "url": f["link"],
                            "suffix": ".mp4",
                            "width": video.get("width") or f.get("width") or 0,
                            "height": video.get("height") or f.get("height") or 0,
                            "duration": float(video.get("duration") or 0),
                        }
                    )
            return found
        found = []
        for photo in self._get_json(f"{base}/v1/search", params, headers).get("photos", []):
            src = photo.get("src", {})
            link = src.get(ctx.orientation) or src.get("large2x") or src.get("original")
            if link:
                found.append(
                    {
                        "id": f"pexels:photo:{photo.get('id')}",
                        "url": link,
                        "suffix": _suffix(link, ".jpg"),
                        "width": photo.get("width") or 0,
                        "height": photo.get("height") or 0,
                        "duration": 0.0,
                    }
                )
        return found


class Pixabay(_Stock):
    name = "pixabay"
    key = "PIXABAY_API_KEY"

    def missing(self) -> str | None:
        return None if self.settings.pixabay_api_key else "no PIXABAY_API_KEY"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        base = self.settings.pixabay_base_url.rstrip("/")
        params = {
            "key": self.settings.pixabay_api_key,
            "q": query[:100],
            "per_page": 20,
            "safesearch": "true",
        }
        if what == "video":
            found = []
            for hit in self._get_json(f"{base}/api/videos/", params).get("hits", []):
                files = [f for f in (hit.get("videos") or {}).values() if f.get("url")]
                if files:
                    f = smallest_sharp(files, lambda f: (f.get("width") or 0, f.get("height") or 0))
                    found.append(
                        {
                            "id": f"pixabay:video:{hit.get('id')}",
                            "url": f["url"],
                            "suffix": ".mp4",
                            "width": f.get("width") or 0,
                            "height": f.get("height") or 0,
                            "duration": float(hit.get("duration") or 0),
                        }
                    )
            return found
        params |= {
            "image_type": "photo",
            "orientation": {"portrait": "vertical", "landscape": "horizontal"}.get(
                ctx.orientation, "all"
            ),
        }
        found = []
        for hit in self._get_json(f"{base}/api/", params).get("hits", []):
            link = hit.get("largeImageURL") or hit.get("webformatURL")
            if link:
                found.append(
                    {
                        "id": f"pixabay:photo:{hit.get('id')}",
                        "url": link,
                        "suffix": _suffix(link, ".jpg"),
                        "width": hit.get("imageWidth") or 0,
                        "height": hit.get("imageHeight") or 0,
                        "duration": 0.0,
                    }
                )
        return found


class AIImages(_Downloads):
    """One image per sentence from its visual prompt, from any
    OpenAI-compatible ``/v1/images/generations`` (the openai SDK over the
    pooled client); ``b64_json`` or ``url`` replies. The stills then move
    with the Ken-Burns zoom."""

    name = "ai"
    key = "IMAGES_API_KEY"
    SIZES = {"portrait": "1024x1536", "landscape": "1536x1024", "square": "1024x1024"}
    DALLE3_SIZES = {"portrait": "1024x1792", "landscape": "1792x1024", "square": "1024x1024"}

    def missing(self) -> str | None:
        s = self.settings
        return (
            None
            if (s.images_api_key or s.images_base_url)
            else "no IMAGES_API_KEY or IMAGES_BASE_URL"
        )

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        """``IMAGES_PARALLEL`` requests at a time; once one fails, the
        sentences not yet asked for skip this source with its reason."""
        down = None

        def one(want: Wanted) -> Pick:
            nonlocal down
            if down:
                return Pick(None, down)
            try:
                return Pick(self.image(want.prompt, ctx), f"ai image for {want.prompt[:60]!r}")
            except _Unavailable as exc:
                down = f"ai: {exc}"
                return Pick(None, down)

        return _at_once(one, wanted, self.settings.images_parallel, ctx.fetched)

    def image(self, prompt: str, ctx: Context) -> Path:
        s = self.settings
        sizes = self.DALLE3_SIZES if s.images_model.startswith("dall-e-3") else self.SIZES
        size = sizes[ctx.orientation]
        key = make_key("visuals", "ai", s.images_base_url, s.images_model, size, prompt)
        return media_file(self.cache, key, None, lambda: self._generate(prompt, size))

    def _generate(self, prompt: str, size: str) -> bytes:
        import openai
        from openai import OpenAI

        s = self.settings
        client = OpenAI(
            api_key=s.images_api_key or "unused",
            base_url=s.images_base_url,
            http_client=self._get_http_client(),
            max_retries=0,
            timeout=self.timeout,
        )
        try:
            reply = client.images.generate(model=s.images_model, prompt=prompt, n=1, size=size)
        except openai.APITimeoutError as exc:
            raise _Unavailable(f"timed out after {self.timeout:g} s") from exc
        except openai.APIStatusError as exc:
            raise _Unavailable(_http_reason(exc.status_code)) from exc
        except openai.APIError as exc:
            raise _Unavailable(f"unreachable ({type(exc).__name__})") from exc
        image = reply.data[0] if reply.data else None
        if image is not None and image.b64_json:
            return base64.b64decode(image.b64_json)
        if image is not None and image.url:
            return self._download(image.url)
        raise _Unavailable("the reply had no image")


class _NoKey:
    """A source that needs no key and no client: it is always usable."""

    key = None

    def __init__(self, settings: Settings, cache: Cache):
        pass

    def missing(self) -> str | None:
        return None


class Generated(_NoKey):
    """The offline background (backgrounds.py), in the topic's own look."""

    name = "generated"

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        return [Pick(None, "generated background") for _ in wanted]


class Upload(_NoKey):
    """The user's own images and clips, one per sentence in turn."""

    name = "upload"

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        if not ctx.uploads:
            return [Pick(None, "upload: no backgrounds were uploaded") for _ in wanted]
        return [
            Pick(
                ctx.uploads[w.index % len(ctx.uploads)],
                f"upload {ctx.uploads[w.index % len(ctx.uploads)].name}",
            )
            for w in wanted
        ]


# The table: "auto" takes the first that has a key, in this order; "generated" is last
# because it always works.
SOURCES: dict[str, type[VisualSource]] = {
    "upload": Upload,
    "pexels": Pexels,
    "pixabay": Pixabay,
    "ai": AIImages,
    "generated": Generated,
}
KEYED = [name for name, cls in SOURCES.items() if cls.key]  # what "auto" considers


# -- choosing ---------------------------------------------------------------------
def check_visuals(name: str, settings: Settings) -> str:
    """``name`` if it can be used here ("auto" always can); else ``UnknownVisuals``
    (field "visuals") saying why."""
    if name == "auto":
        return name
    if name not in SOURCES:
        raise UnknownVisuals(f"visuals must be auto or one of {', '.join(SOURCES)} (got {name!r})")
    why = SOURCES[name](settings, None).missing()
    if why:
        raise UnknownVisuals(f"visuals {name!r} cannot be used here: {why}")
    return name


def check_transition(name: str, seconds: float) -> tuple[str, float]:
    """``(name, seconds)`` if valid; else ``BadTransition`` naming the field."""
    if name not in TRANSITIONS:
        raise BadTransition(
            f"transition must be one of {', '.join(TRANSITIONS)} (got {name!r})", field="transition"
        )
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise BadTransition(
            "transition_seconds must be a number", field="transition_seconds"
        ) from None
    if not 0 < value <= MAX_TRANSITION_SECONDS:  # also refuses NaN
        raise BadTransition(
            f"transition_seconds must be more than 0 and at most {MAX_TRANSITION_SECONDS:g}",
            field="transition_seconds",
        )
    return name, value


def order(name: str, settings: Settings, cache: Cache) -> list[VisualSource]:
    """The sources to ask, in turn: the chosen one (or, for "auto", every one
    with a key, best first), then the other keyed ones, then ``generated``."""
    check_visuals(name, settings)
    if name == "generated":
        return [Generated(settings, cache)]
    names = [] if name == "auto" else [name]
    names += [n for n in KEYED if n not in names]
    sources = [SOURCES[n](settings, cache) for n in names]
    return [*(s for s in sources if not s.missing()), Generated(settings, cache)]


def choose(
    name: str,
    sentences: list[str],
    ctx: Context,
    settings: Settings,
    cache: Cache,
    *,
    search_terms: list[list[str]] = (),
    prompts: list[str] = (),
    title: str = "",
    progress: Callable[[float], None] | None = None,
) -> VisualsResult:
    """A picture per sentence from the ``name`` source ("auto" or a ``SOURCES``
    name), each sentence falling back source by source. ``progress`` is told
    the share of sentences with a fetched file as each one comes (it may
    raise, e.g. TaskCanceled, to stop)."""
    if progress is not None:
        fetched = 0

        def count(pick: Pick) -> None:
            nonlocal fetched
            if pick.path is not None:
                fetched += 1
                progress(min(1.0, fetched / len(sentences)))

        ctx.fetched = count
    wanted = [
        Wanted(
            i,
            s,
            _terms(s, search_terms[i] if i < len(search_terms) else [], ctx.topic),
            (
                prompts[i]
                if i < len(prompts) and prompts[i].strip()
                else _prompt(s, title or ctx.topic)
            ),
            max(1.5, len(s.split()) / WORDS_PER_SECOND),
        )
        for i, s in enumerate(sentences)
    ]
    paths: list[Path | None] = [None] * len(sentences)
    served: list[str] = ["generated"] * len(sentences)
    notes: list[list[str]] = [[] for _ in sentences]
    passed_over: list[str] = []
    if name == "auto" and not any(not SOURCES[n](settings, cache).missing() for n in KEYED):
        passed_over.append(
            "no stock or image API key ("
            + ", ".join(SOURCES[n].key for n in KEYED)
            + "): generated background"
        )
    todo = wanted
    for source in order(name, settings, cache):
        if not todo:
            break
        picks = source.pick(todo, ctx)
        left = []
        for want, pick in zip(todo, picks):
            notes[want.index].append(pick.note)
            if pick.path is None and source.name != "generated":
                left.append(want)
                if pick.note not in passed_over:
                    passed_over.append(pick.note)
            else:
                paths[want.index], served[want.index] = pick.path, source.name
        todo = left
    per_sentence = [{"source": s, "note": " -> ".join(n)} for s, n in zip(served, notes)]
    distinct = list(dict.fromkeys(served))
    return VisualsResult(
        paths=paths,
        source=",".join(distinct),
        note="; ".join(passed_over) or None,
        per_sentence=per_sentence,
    )


def _at_once(fn, items: list, at_once: int, each: Callable | None = None) -> list:
    """``fn`` of each item, up to ``at_once`` at a time; the results in order,
    each also given to ``each`` (in this thread) as it comes. If ``each``
    raises, the items not yet started are dropped."""
    results = []
    pool = (
        ThreadPoolExecutor(min(at_once, len(items)), thread_name_prefix="visuals")
        if at_once > 1 and len(items) > 1
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


def best_candidate(found: list[dict], seconds: float, ctx: Context) -> dict | None:
    """The unused candidate in the right orientation that lasts long enough
    (a clip), closest in length; photos after clips of the right shape."""

    def score(c):
        w, h = c.get("width") or 0, c.get("height") or 0
        shape = "portrait" if h > w else "landscape" if w > h else "square"
        d = c.get("duration") or 0.0
        return (shape != ctx.orientation, d > 0 and d < seconds, abs(d - seconds) if d else 0.0)

    fresh = [c for c in found if c["id"] not in ctx.used]
    return min(fresh, key=score) if fresh else None


def smallest_sharp(files: list[dict], dims) -> dict:
    """The smallest file whose short side is at least 720 px, else the largest."""
    short = lambda f: min(d for d in dims(f) if d) if any(dims(f)) else 0  # noqa: E731
    sharp = [f for f in files if short(f) >= 720]
    return min(sharp, key=short) if sharp else max(files, key=short)


# -- files through the cache --------------------------------------------------------
def media_file(cache: Cache, key: str, suffix: str | None, fetch) -> Path:
    """A file holding the bytes cached under ``key`` (``fetch()`` on a miss).

    The cache (size-bounded, TTL) is where the bytes live; the renderer needs a
    path, so they are also written once to ``<cache>/media/``, named by the
    entry's digest: a copy whose entry the cache has evicted, or that went
    unused for longer than the cache's TTL, is removed, so the copies stay
    within the cache's own bound. ``suffix`` None: from the image's own format
    (and a reply that is not an image fails)."""
    data = cache.get(key)
    if data is None:
        data = fetch()
        if suffix is None:
            suffix = _image_suffix(data)
        cache.set(key, data)
    elif suffix is None:
        suffix = _image_suffix(data)
    folder = Path(cache.cache_dir) / "media"
    path = folder / (cache.digest(key) + suffix)
    if path.exists():
        os.utime(path)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder, cache)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path


def _prune(folder: Path, cache: Cache) -> None:
    """Remove the media copies whose cache entry is gone or that are unused
    for longer than the cache's TTL."""
    cutoff = time.time() - cache.default_ttl if cache.default_ttl else None
    for entry in os.scandir(folder):
        digest = entry.name.split(".")[0]
        evicted = not entry.name.endswith(".part") and not cache.holds(
            digest
        )  # (.part: being written)
        try:
            if evicted or (cutoff and entry.stat().st_mtime < cutoff):
                os.unlink(entry.path)
        except FileNotFoundError:
            pass


def _image_suffix(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = (img.format or "").lower()
    except (UnidentifiedImageError, OSError) as exc:
        raise _Unavailable("the reply was not an image") from exc
    return {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}.get(fmt, ".png")


def _suffix(url: str, default: str) -> str:
    suffix = Path(httpx.URL(url).path).suffix.lower()
    return suffix if suffix in (".jpg", ".jpeg", ".png", ".webp", ".mp4") else default


def _http_reason(code: int) -> str:
    if code in (401, 403):
        return f"the API key was rejected (HTTP {code})"
    if code == 429:
        return "rate limited (HTTP 429)"
    return f"HTTP {code}"


# -- search terms and prompts when the script has none -------------------------------
_STOPWORDS = set(
    "a an and are as at be but by can do does for from has have how i in is it its of on or so "
    "that the their them there they this to was what when where which who why will with you your "
    "about into than then these those we our us my me one two more most very just also even "
    "follow next time know here like".split()
)


def keywords(sentence: str, topic: str = "", limit: int = 3) -> str:
    """A short search query: the sentence's longest content words, else the topic's."""
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", sentence)]
    content = sorted(
        {w for w in words if w not in _STOPWORDS and len(w) > 3},
        key=lambda w: (-len(w), words.index(w)),
    )
    if not content:
        content = [w for w in re.findall(r"[^\W\d_]+", topic.lower()) if w not in _STOPWORDS]
    return " ".join(content[:limit])


def _terms(sentence: str, given: list[str], topic: str) -> list[str]:
    terms = [t.strip() for t in given if t and t.strip()] or [keywords(sentence, topic)]
    terms.append(keywords(topic, topic))
    return [t for t in dict.fromkeys(terms) if t]


def _prompt(sentence: str, title: str) -> str:
    return (
        f"{sentence} An illustration for a short video about {title}: "
        "cinematic photograph, soft light, no text."
    )
