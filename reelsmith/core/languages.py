"""Language codes as people type them, and as each voice engine wants them.

People type ``zh``, ``zh-CN``, ``zh_TW``, ``cmn``, ``ja``, ``ko``, ``pt-br``…
``canonical`` turns them into one BCP-47-style tag (``zh-CN``, ``pt-BR``);
``for_engine`` then gives the engine's own code from the ones it knows:
espeak says Mandarin is ``cmn`` and Cantonese ``yue``, gTTS wants ``zh-CN``
and calls Hebrew ``iw``, Edge's voices have locales like ``zh-CN``.
"""

from __future__ import annotations

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
