"""Language codes as people type them, and as each voice engine wants them.

People type ``zh``, ``zh-CN``, ``zh_TW``, ``cmn``, ``ja``, ``ko``, ``pt-br``…
``canonical`` turns them into one BCP-47-style tag (``zh-CN``, ``pt-BR``);
``for_engine`` then gives the engine's own code from the ones it knows:
espeak says Mandarin is ``cmn`` and Cantonese ``yue``, gTTS wants ``zh-CN``
and calls Hebrew ``iw``, Edge's voices have locales like ``zh-CN``.

How text in a language is measured and cut, for every stage: ``word_count``
(the one unit of a script's length and a voice's pace: words, and each CJK
character as one), ``count_unit`` (what a length is counted in), and
``split_sentences``.
"""

from __future__ import annotations

import re

# What people type -> the canonical tag.
ALIASES = {
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-sg": "zh-CN",
    "cmn": "zh-CN",
    "zh-cmn": "zh-CN",
    "zh-hant": "zh-TW",
    "yue": "zh-HK",
    "zh-yue": "zh-HK",
    "iw": "he",
    "jw": "jv",
    "nb": "no",
}

# Canonical tag -> each engine's preferred codes, tried in order before the plain match.
ENGINE_CODES = {
    "espeak": {"zh-CN": ["cmn"], "zh-TW": ["cmn"], "zh-HK": ["yue"], "no": ["nb"]},
    "gtts": {
        "zh-CN": ["zh-CN"],
        "zh-TW": ["zh-TW"],
        "zh-HK": ["yue"],
        "he": ["iw"],
        "jv": ["jw"],
        "pt-BR": ["pt"],
    },
    "edge": {"no": ["nb-NO"]},
}


def canonical(language: str) -> str:
    """ "ZH_tw" -> "zh-TW", "cmn" -> "zh-CN", "pt-br" -> "pt-BR", "en" -> "en"."""
    tag = language.strip().replace("_", "-")
    lowered = tag.lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    parts = lowered.split("-")
    return "-".join([parts[0]] + [p.upper() if len(p) == 2 else p for p in parts[1:]])


def base(language: str) -> str:
    """ "pt-BR" -> "pt"; "zh-TW" -> "zh"."""
    return canonical(language).split("-")[0]


def for_engine(engine: str, language: str, known: list[str]) -> str | None:
    """The entry of ``known`` (an engine's codes) for ``language``: the
    engine's own alias first, then the exact tag, then the base language,
    then any regional variant of it; None if the engine does not speak it."""
    tag = canonical(language)
    by_lower = {k.lower(): k for k in known}
    candidates = [*ENGINE_CODES.get(engine, {}).get(tag, []), tag, base(tag)]
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    prefix = base(tag) + "-"
    regional = sorted(k for k in known if k.lower().startswith(prefix))
    return regional[0] if regional else None


# -- counting and splitting text ------------------------------------------------------
# Chinese, Japanese and Korean are counted (and their voices' pace measured) in
# characters. Thai, Lao, Khmer and Burmese put no spaces between words, so their
# length is not counted.
_CHARACTERS = {"zh", "ja", "ko"}
_UNCOUNTED = {"th", "lo", "km", "my"}
_SENTENCE_BREAK = re.compile(
    r"(?<=[。！？])\s*"  # CJK full stops need no space
    r"|(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+"  # . ! ? (maybe closing a quote), then space
    r"|\s*\n\s*"  # every line break
)


def is_cjk(ch: str) -> bool:
    """A character of a script written without spaces (Chinese, Japanese, Korean)."""
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF
        or 0x3400 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
    )


def word_count(text: str) -> int:
    """Words as a script budget and a voice's pace count them: ``text.split()``
    tokens, and each CJK character (scripts written without spaces) as one word."""
    cjk = sum(1 for ch in text if is_cjk(ch))
    return cjk + sum(1 for t in text.split() if not all(is_cjk(ch) or not ch.isalnum() for ch in t))


def count_unit(language: str) -> str | None:
    """What a length is counted in for ``language``: "words", "characters",
    or None (not counted)."""
    code = language.lower().replace("_", "-").split("-")[0]
    return "characters" if code in _CHARACTERS else None if code in _UNCOUNTED else "words"


def split_sentences(text: str) -> list[str]:
    """Sentences on . ! ? … and line breaks, punctuation kept; parts with
    nothing to say (blank, or punctuation only) dropped."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if re.search(r"\w", part)]
