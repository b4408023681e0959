"""Stop words and content keywords, shared by the stages: the script stage
phrases topics and derives search terms with them, the visuals stage derives
a search query when a sentence has none."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

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


def keywords(text: str, generic: bool = True, vague: Collection[str] = frozenset()) -> list[str]:
    """Content words of ``text``, lowercase, in order, without repeats;
    ``generic=True`` also drops ``VAGUE`` words and ``vague`` (a stage's own
    words too vague to search footage for, like the offline templates')."""
    skip = STOPWORDS | (VAGUE | set(vague) if generic else set())
    words = (re.sub(r"'s$", "", w) for w in re.findall(r"[^\W\d_][\w'-]*", text.lower()))
    return unique(w for w in words if len(w) > 2 and w not in skip)


def unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item]
