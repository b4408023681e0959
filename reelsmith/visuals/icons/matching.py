"""Which OpenMoji icon stands for a sentence: its words against each emoji's
CLDR name and keywords (the ``emoji`` package's names and aliases), allowing
for plurals and simple stems. Only emoji the bundled colour font draws are
considered. A match is "good" when the word is the whole name or keyword
(``octopus``, ``coffee``), a two-word name in the sentence (``hot
beverage``), or the head of a two-word name (``running`` in "person
running"); anything weaker gives no icon. Ties are broken by fixed rules, never at random.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import emoji

from reelsmith.captions.fonts import EMOJI_FONT, _package_dir, cmap
from reelsmith.core.words import STOPWORDS, VAGUE

GOOD = 2  # the least score that shows an icon
WHOLE, PHRASE, HEAD = 3, 3, 2
# Emoji names with these words are signs and shapes, not things a sentence talks about.
SIGNS = {"button", "keycap", "arrow", "symbol", "square", "triangle", "japanese", "squared"}
# Words too plain to stand for a whole sentence's picture.
PLAIN = (
    STOPWORDS
    | VAGUE
    | {"people", "person", "man", "woman", "face", "hand", "hands", "new"}
    | {"away", "together", "off", "back", "forward", "again", "way"}  # heads that are no thing
)
_SKIN = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {chr(c) for c in range(0x1F9B0, 0x1F9B4)}
_JOINERS = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}
_LOADING = threading.Lock()  # emoji.config.load_language fills the shared EMOJI_DATA
_WORD = re.compile(r"[^\W\d_][\w'-]*")


@dataclass(frozen=True)
class Icon:
    """An emoji standing for a sentence: ``name`` is its CLDR name, ``word``
    the word of the sentence (as written there, punctuation aside) it stands for."""

    emoji: str
    name: str
    word: str
    score: int = WHOLE

    def as_result(self, word: str | None = None) -> dict:
        return {"emoji": self.emoji, "name": self.name, "word": word or self.word}


@dataclass(frozen=True)
class _Entry:
    emoji: str
    name: str
    size: int  # words in the name: fewer is more specific
    version: float  # the Emoji version: older is more common


def forms(word: str) -> list[str]:
    """``word`` (lower case) and its simple stems: plurals and -ing forms."""
    w = word.lower().strip("'-").removesuffix("'s")
    out = [w]
    if len(w) > 3 and w.endswith("ies"):
        out.append(w[:-3] + "y")
    if len(w) > 3 and w.endswith("ves"):
        out += [w[:-3] + "f", w[:-3] + "fe"]
    if len(w) > 3 and w.endswith("es"):
        out.append(w[:-2])
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        out.append(w[:-1])
    # -ing, not -ed: "running" is a runner, but "sealed" is no seal
    stem = w[:-3]
    if len(stem) >= 3 and w.endswith("ing"):
        out.append(stem)
        if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
            out.append(stem[:-1])  # running -> run
        out.append(stem + "e")  # baking -> bake
    return list(dict.fromkeys(out))


def _name_forms(word: str) -> list[str]:
    """A name's word and, for an -ing word, its base ("running": "run"); not
    its singular ("shorts" is no "short", "glasses" no "glass")."""
    return [word, *(f for f in forms(word) if word.endswith("ing") and f != word)]


def _words(phrase: str) -> list[str]:
    return re.findall(r"[^\W_]+", phrase.lower())


def language_of(code: str | None) -> str | None:
    """The ``emoji`` package's language for a language code ("en-US" -> "en"), or None."""
    primary = (code or "en").replace("_", "-").split("-")[0].lower()
    return primary if primary in emoji.LANGUAGES else None


@lru_cache(maxsize=len(emoji.LANGUAGES))
def index(language: str = "en") -> dict[str, dict[str, tuple[int, _Entry]]]:
    """word form -> {emoji: (score, entry)}, and two-word phrases -> the same.
    In English, names and aliases with plurals and the heads of two-word
    names; in another language (``emoji.LANGUAGES``), the emoji's name in it
    as it is."""
    if language != "en":
        with _LOADING:
            emoji.config.load_language(language)
    package, name = EMOJI_FONT
    drawn = cmap(_package_dir(package) / name)
    table: dict[str, dict[str, tuple[int, _Entry]]] = {}

    def add(key: str, score: int, entry: _Entry) -> None:
        best = table.setdefault(key, {})
        if score > best.get(entry.emoji, (0, entry))[0]:
            best[entry.emoji] = (score, entry)

    for char, data in emoji.EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"] or _SKIN & set(char):
            continue
        if any(ord(c) not in drawn for c in char if ord(c) not in _JOINERS):
            continue
        name_words = _words(data["en"].strip(":").replace("_", " "))
        if not name_words or SIGNS & set(name_words):
            continue
        cldr = data["en"].strip(":").replace("_", " ")
        entry = _Entry(char, cldr, len(name_words), float(data.get("E", 99)))
        english = language == "en"
        phrases = (
            [name_words, *(_words(a.strip(":").replace("_", " ")) for a in data.get("alias", ()))]
            if english
            else [_words(data.get(language, "").strip(":").replace("_", " "))]
        )
        for words in phrases:
            if len(words) == 1:
                for form in _name_forms(words[0]) if english else words:
                    add(form, WHOLE, entry)
            elif len(words) == 2:
                add(" ".join(words), PHRASE, entry)
            head = words[-1] if words else ""  # "person running" is a runner; not "closed"
            if english and len(words) == 2 and head not in PLAIN and not head.endswith("ed"):
                for form in _name_forms(head):
                    add(form, HEAD, entry)
    return table


def _best(key: str, language: str = "en") -> tuple[int, _Entry] | None:
    found = index(language).get(key)
    if not found:
        return None
    return max(found.values(), key=lambda se: (se[0], -se[1].size, -se[1].version, se[1].emoji))


def match_word(word: str, language: str | None = "en") -> Icon | None:
    """The icon for one word (in English its plurals and stems too), or None
    (always for a language the ``emoji`` package has no names in)."""
    lang = language_of(language)
    if lang is None or len(word) < 3 or (lang == "en" and word.lower() in PLAIN):
        return None
    candidates = forms(word) if lang == "en" else [word.lower()]
    hits = [hit for form in candidates if (hit := _best(form, lang))]
    if not hits:
        return None
    score, entry = max(hits, key=lambda se: (se[0], -se[1].size, -se[1].version, se[1].emoji))
    return Icon(entry.emoji, entry.name, word, score)


def tokens(text: str) -> list[str]:
    """The words of ``text`` as written (letters, inner apostrophes and hyphens)."""
    return _WORD.findall(text)


def match_sentence(
    sentence: str,
    skip: Collection[str] = frozenset(),
    prefer: Iterable[str] = (),
    language: str | None = "en",
) -> Icon | None:
    """The best icon for a sentence in ``language``, or None when no word
    matches well. ``skip``: words never to match (lower case); ``prefer``:
    words (the topic's) that win a tie. Ties then go to the longer word, then
    the earlier."""
    lang = language_of(language)
    if lang is None:
        return None
    words = tokens(sentence)
    preferred = {f for w in prefer for f in forms(w)}
    found: list[tuple[tuple, Icon]] = []
    for i, word in enumerate(words):
        if word.lower() in skip:
            continue
        icon = match_word(word, lang)
        if i + 1 < len(words):  # a two-word name ("hot beverage") beats its parts
            hit = _best(f"{word.lower()} {words[i + 1].lower()}", lang)
            if hit and hit[0] >= (icon.score if icon else 0):
                icon = Icon(hit[1].emoji, hit[1].name, words[i + 1], PHRASE)
        if icon and icon.score >= GOOD:
            near = bool(preferred & set(forms(icon.word)))
            found.append(((icon.score, near, len(icon.word), -i), icon))
    return max(found, key=lambda f: f[0])[1] if found else None


def main_icon(
    topic: str, sentences: Sequence[str] = (), language: str | None = "en"
) -> Icon | None:
    """The topic's own icon: its head noun's. Of the topic's words that match
    well, the strongest match, then the one the script says most, then the
    first (words like "history", "life" or "morning" match nothing, so the
    thing itself is what is left: an octopus for "the secret life of the
    octopus", a volcano for "volcanoes of Iceland", a runner for "a morning
    run", an octopus for "why octopuses have three hearts")."""
    said = [f for s in sentences for w in tokens(s) for f in forms(w)]
    found = []
    for i, word in enumerate(tokens(topic)):
        icon = match_word(word, language)
        if icon and icon.score >= GOOD:
            found.append(((icon.score, said.count(forms(word)[0]), -i), icon))
    return max(found, key=lambda f: f[0])[1] if found else None
