"""Choosing a picture for each sentence: ``choose`` asks the sources
(``reelsmith.visuals.sources``) in turn, sentence by sentence, so a sentence
one source cannot serve (429, 5xx, a timeout, no result) goes to the next;
the last one is always ``generated`` (offline). The result says which
source served each sentence and why.

Stock and image files go through the disk cache (``cache.Cache``:
size-bounded, TTL), keyed by source and query, URL or prompt, so a repeat
request calls no API. Files are fetched several at once: stock files
``DOWNLOADS_AT_ONCE``, AI images ``IMAGES_PARALLEL``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from cache import Cache
from reelsmith.core.exceptions import UnknownVisuals
from reelsmith.core.settings import Settings
from reelsmith.core.words import keywords as content_words
from reelsmith.visuals.icons.matching import Icon, main_icon
from reelsmith.visuals.sources import SOURCES, VisualSource, keyed
from reelsmith.visuals.sources.base import Context, Pick, Wanted
from reelsmith.visuals.sources.icons import Icons

WORDS_PER_SECOND = 2.6  # to guess how long a sentence shows before it is spoken


@dataclass
class VisualsResult:
    paths: list[Path | None] = field(default_factory=list)  # per sentence; None: generated
    source: str = "generated"  # the source of every sentence, or several joined by ","
    note: str | None = None  # why a source was passed over (None: the first choice served all)
    per_sentence: list[dict] = field(default_factory=list)  # [{"source", "note"}]
    icons: list[Icon | None] = field(default_factory=list)  # per sentence, from the icons source
    main_icon: Icon | None = None  # the topic's icon, when the icons source served


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


def order(name: str, settings: Settings, cache: Cache) -> list[VisualSource]:
    """The sources to ask, in turn: the chosen one (or, for "auto", every one
    with a key, best first), then the other keyed ones, then ``icons`` (the
    offline default; ``generated`` when that was asked for)."""
    check_visuals(name, settings)
    if name in ("generated", "icons"):
        return [SOURCES[name](settings, cache)]
    names = [] if name == "auto" else [name]
    names += [n for n in keyed() if n not in names]
    sources = [SOURCES[n](settings, cache) for n in names]
    return [*(s for s in sources if not s.missing()), Icons(settings, cache)]


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
    vague_words: Collection[str] = frozenset(),
) -> VisualsResult:
    """A picture per sentence from the ``name`` source ("auto" or a ``SOURCES``
    name), each sentence falling back source by source. ``progress`` is told
    the share of sentences with a fetched file as each one comes (it may
    raise, e.g. TaskCanceled, to stop). A sentence without search terms is
    searched for by its keywords, less ``vague_words`` (the script writer's
    own filler words)."""
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
            _terms(s, search_terms[i] if i < len(search_terms) else [], ctx.topic, vague_words),
            (
                prompts[i]
                if i < len(prompts) and prompts[i].strip()
                else _prompt(s, title or ctx.topic)
            ),
            max(1.5, len(s.split()) / WORDS_PER_SECOND),
            content_words(s, vague=vague_words),
        )
        for i, s in enumerate(sentences)
    ]
    paths: list[Path | None] = [None] * len(sentences)
    served: list[str] = ["generated"] * len(sentences)
    icons: list[Icon | None] = [None] * len(sentences)
    notes: list[list[str]] = [[] for _ in sentences]
    passed_over: list[str] = []
    if name == "auto" and not any(not SOURCES[n](settings, cache).missing() for n in keyed()):
        passed_over.append(
            "no stock or image API key (" + ", ".join(SOURCES[n].key for n in keyed()) + "): icons"
        )
    todo = wanted
    sources = order(name, settings, cache)
    for source in sources:
        if not todo:
            break
        picks = source.pick(todo, ctx)
        left = []
        for want, pick in zip(todo, picks):
            notes[want.index].append(pick.note)
            if pick.path is None and source is not sources[-1]:
                left.append(want)
                if pick.note not in passed_over:
                    passed_over.append(pick.note)
            else:
                paths[want.index], served[want.index] = pick.path, source.name
                icons[want.index] = pick.icon
        todo = left
    per_sentence = [{"source": s, "note": " -> ".join(n)} for s, n in zip(served, notes)]
    for entry, icon in zip(per_sentence, icons):  # {emoji, name, word}; the render names the word
        if entry["source"] == Icons.name:
            entry["icon"] = icon.as_result() if icon else None
    distinct = list(dict.fromkeys(served))
    return VisualsResult(
        paths=paths,
        source=",".join(distinct),
        note="; ".join(passed_over) or None,
        per_sentence=per_sentence,
        icons=icons,
        main_icon=main_icon(ctx.topic, sentences, ctx.language) if Icons.name in served else None,
    )


# -- search terms and prompts when the script has none -------------------------------
def keywords(
    sentence: str, topic: str = "", limit: int = 3, vague: Collection[str] = frozenset()
) -> str:
    """A short search query: the sentence's longest searchable words (no stop
    words, vague words or ``vague``), else the topic's."""
    words = [w for w in content_words(sentence, vague=vague) if len(w) > 3]
    content = sorted(words, key=lambda w: (-len(w), words.index(w)))
    if not content:
        content = content_words(topic, generic=False)
    return " ".join(content[:limit])


def _terms(sentence: str, given: list[str], topic: str, vague: Collection[str]) -> list[str]:
    terms = [t.strip() for t in given if t and t.strip()] or [
        keywords(sentence, topic, vague=vague)
    ]
    terms.append(keywords(topic, topic, vague=vague))
    return [t for t in dict.fromkeys(terms) if t]


def _prompt(sentence: str, title: str) -> str:
    return (
        f"{sentence} An illustration for a short video about {title}: "
        "cinematic photograph, soft light, no text."
    )
