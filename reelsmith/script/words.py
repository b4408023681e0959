"""The words of scripts: titles, hashtags and cleaned search terms (stop
words and keywords are in ``reelsmith.core.words``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reelsmith.core.words import STOPWORDS, unique


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


def clean_terms(terms: Iterable[str]) -> list[str]:
    """Up to three short lowercase searches, without repeats."""
    cleaned = (" ".join(re.sub(r"[^\w\s'-]", " ", term).split()[:4]).lower() for term in terms)
    return unique(cleaned)[:3]
