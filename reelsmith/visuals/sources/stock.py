"""What the stock libraries (Pexels, Pixabay) share: the search, the choice
of a clip or photo, and the downloads."""

from __future__ import annotations

from reelsmith.core.exceptions import SourceUnavailable
from reelsmith.visuals.sources.base import Context, Downloads, Pick, Wanted, at_once

DOWNLOADS_AT_ONCE = 4  # stock files fetched at once (file downloads; the searches go one by one)


class Stock(Downloads):
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
            except SourceUnavailable as exc:
                down = f"{self.name}: {exc}"
                chosen.append((None, down))

        def fetch(choice: tuple[dict | None, str]) -> Pick:
            best, note = choice
            if best is None:
                return Pick(None, note)
            try:
                return Pick(self.file(best["url"], best["suffix"]), note)
            except SourceUnavailable as exc:
                return Pick(None, f"{self.name}: {exc}")

        return at_once(fetch, chosen, DOWNLOADS_AT_ONCE, ctx.fetched)

    def _choose(self, want: Wanted, ctx: Context) -> tuple[dict | None, str]:
        """The best unused candidate for ``want`` (now marked used) and the
        note, or None and why."""
        for query in want.terms:
            for what in ("video", "photo"):
                found = self.cached_search(what, query, ctx, lambda: self.search(what, query, ctx))
                best = best_candidate(found, want.seconds, ctx)
                if best is not None:
                    ctx.used.add(best["id"])
                    return best, f"{self.name} {self.kind_label[what]} for {query!r}"
        tried = ", ".join(repr(q) for q in want.terms) or "no search terms"
        return None, f"{self.name}: nothing new for {tried}"

    def search(self, what: str, query: str, ctx: Context) -> list[dict]:
        """Candidates: dicts with id, url, suffix, width, height, duration (0 for photos)."""
        raise NotImplementedError


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
