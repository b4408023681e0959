"""The words of scripts: the one list of stop words (and the words too vague
to search footage for), content keywords, titles and hashtags. The offline
writer phrases topics with the function-word sets; the visuals stage derives
search queries with ``keywords``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reelsmith.script.templates import TEMPLATE_WORDS

WH = {"why", "how", "what", "when", "where", "who", "which"}
AUX = {
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "can",
    "could",
    "will",
    "would",
    "should",
    "has",
    "have",
    "had",
}
PREPOSITIONS = {
    "of",
    "for",
    "from",
    "with",
    "to",
    "about",
    "in",
    "on",
    "at",
    "by",
    "like",
    "inside",
    "behind",
    "beyond",
    "under",
    "between",
}
STOPWORDS = (
    WH
    | AUX
    | PREPOSITIONS
    | set(
        "a an and but or so if than then that this these those it its the their them they there "
        "you your we our us i me my he she his her not no yes get gets got make makes made "
        "one two three four five six seven eight nine ten many much more most some any all "
        "really very just only also into onto out up down over under".split()
    )
)
# Words too vague to search footage for (besides the offline templates' own words).
VAGUE = set(
    "because been being came come comes goes going gone went know knew known think thought "
    "said says say use used uses using called call become became look looks looked seem "
    "seems seemed thing things way ways lot lots something someone every each other another "
    "same such own even still ever never always often here where while after before again "
    "what's it's that's there's let's don't doesn't isn't aren't can't won't through across "
    "around without within during against toward towards upon among since until whether "
    "although though which whose above below beside".split()
)


def keywords(text: str, generic: bool = True) -> list[str]:
    """Content words of ``text``, lowercase, in order, without repeats;
    ``generic=True`` also drops vague words and the offline templates' words."""
    skip = STOPWORDS | (VAGUE | TEMPLATE_WORDS if generic else set())
    words = (re.sub(r"'s$", "", w) for w in re.findall(r"[^\W\d_][\w'-]*", text.lower()))
    return unique(w for w in words if len(w) > 2 and w not in skip)


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def title_case(text: str) -> str:
    small = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}
    words = text.split()
    return " ".join(
        word
        if any(c.isupper() for c in word)  # keep "NASA", "iPhone"
        else word
        if 0 < i < len(words) - 1 and word in small  # the last word is capitalised
        else capitalised(word)
        for i, word in enumerate(words)
    )


def hashtags_for(text: str) -> list[str]:
    """3-5 lowercase hashtags: up to four topic words, then generic ones."""
    words = unique(
        w
        for w in re.findall(r"\w+", text.lower())
        if len(w) > 2 and not w.isdigit() and w not in STOPWORDS
    )
    tags = words[:4] + ["shorts"]
    for generic in ("facts", "explained"):
        if len(tags) < 3:
            tags.append(generic)
    return tags


def unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item]


def clean_terms(terms: Iterable[str]) -> list[str]:
    """Up to three short lowercase searches, without repeats."""
    cleaned = (" ".join(re.sub(r"[^\w\s'-]", " ", term).split()[:4]).lower() for term in terms)
    return unique(cleaned)[:3]
