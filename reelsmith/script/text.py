"""The words of a script: its dataclass, length budget, sentence splitting,
search terms and visual prompts derived from the sentences, and the word
lists the offline writer shares."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from reelsmith.core.exceptions import ScriptError
from reelsmith.script.templates import TEMPLATE_WORDS

# Part of every cache key: bump it when the prompt or the offline templates
# change, so old cached scripts are not served for the new wording.
PROMPT_VERSION = "3"

MIN_SENTENCES, MAX_SENTENCES = 3, 40  # what a reply from the model must have
WORDS_PER_SECOND = 2.5  # calm narration pace, when the voice's is not known
WORDS_PER_SENTENCE = 13  # one caption's worth
LENGTH_TOLERANCE = 0.2  # a reply further than this from the budget is asked again
# The pauses the render puts around the sentences (audio.py; a test checks they agree).
# The title is shown over the first sentences, so it adds no time.
LEAD_IN, GAP, TAIL = 0.4, 0.3, 0.8
# Chinese, Japanese and Korean are counted (and their voices' pace measured) in
# characters. Thai, Lao, Khmer and Burmese put no spaces between words, so their
# length is not checked (the prompt still gives seconds and sentences).
_CHARACTERS = {"zh", "ja", "ko"}
_UNCOUNTED = {"th", "lo", "km", "my"}


@dataclass
class Script:
    title: str
    sentences: list[str]  # one caption (and one voice clip) each
    description: str = ""
    hashtags: list[str] = field(default_factory=list)  # lowercase words, without '#'
    source: str = "user"  # "openai" | "ollama" | "lmstudio" | "offline" | "user"
    language: str = "en"
    # Per sentence, for the visual sources: stock search terms (English, the
    # most specific first), and a prompt for an image model.
    search_terms: list[list[str]] = field(default_factory=list)
    visual_prompts: list[str] = field(default_factory=list)
    note: str = ""  # what the writer had to settle for, in plain words ("" when nothing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    @property
    def words(self) -> int:
        return sum(count_words(s) for s in self.sentences)


@dataclass(frozen=True)
class WordBudget:
    """How many words fill ``target_seconds`` of finished video at a pace."""

    target_seconds: float
    words_per_second: float
    sentences: int  # suggested: about WORDS_PER_SENTENCE words each
    words: int

    @property
    def low(self) -> int:
        return round(self.words * (1 - LENGTH_TOLERANCE))

    @property
    def high(self) -> int:
        return round(self.words * (1 + LENGTH_TOLERANCE))

    def words_for(self, sentences: int) -> float:
        """The words that fill the target with ``sentences`` sentences (each
        sentence adds a pause)."""
        return speech_seconds(self.target_seconds, sentences) * self.words_per_second


def speech_seconds(target_seconds: float, sentences: int) -> float:
    """The seconds left for speech in a video of ``target_seconds`` with
    ``sentences`` sentences: the lead-in, the pauses between sentences and
    the tail take the rest."""
    return max(0.0, target_seconds - LEAD_IN - TAIL - GAP * max(0, sentences - 1))


def estimated_seconds(words: int, sentences: int, words_per_second: float) -> float:
    """The finished video's length for a script of ``words`` in ``sentences``."""
    return LEAD_IN + TAIL + GAP * max(0, sentences - 1) + words / words_per_second


def word_budget(target_seconds: float, words_per_second: float | None = None) -> WordBudget:
    """The word budget for ``target_seconds`` of video at ``words_per_second``
    (default ``WORDS_PER_SECOND``; ``speech.words_per_second(voice, speed,
    language)`` gives a voice's). Raises ScriptError naming a bad argument."""
    wps = WORDS_PER_SECOND if words_per_second is None else words_per_second
    if isinstance(wps, bool) or not isinstance(wps, (int, float)) or not 0 < wps <= 20:
        raise ScriptError(
            f"words_per_second must be a number above 0 and at most 20 (got {words_per_second!r})"
        )
    if (
        isinstance(target_seconds, bool)
        or not isinstance(target_seconds, (int, float))
        or not 0 < target_seconds <= 3600
    ):
        raise ScriptError(
            f"target_seconds must be a number of seconds above 0 (got {target_seconds!r})"
        )
    sentences = MIN_SENTENCES
    for _ in range(4):  # the pauses depend on the count, the count on the words: settles at once
        words = speech_seconds(target_seconds, sentences) * wps
        sentences = max(MIN_SENTENCES, min(MAX_SENTENCES, round(words / WORDS_PER_SENTENCE)))
    words = speech_seconds(target_seconds, sentences) * wps
    return WordBudget(float(target_seconds), float(wps), sentences, max(1, round(words)))


def count_words(text: str) -> int:
    """Words as the voices' pace counts them (``speech.word_count``):
    whitespace-separated tokens, and each CJK character as one."""
    from reelsmith.voice.synthesizer import (
        word_count,
    )  # the one definition of the unit; imported when first needed

    return word_count(text)


def _unit(language: str) -> str | None:
    """What a budget counts in ``language``: "words", "characters", or None
    (not counted)."""
    code = language.lower().replace("_", "-").split("-")[0]
    return "characters" if code in _CHARACTERS else None if code in _UNCOUNTED else "words"


# The look asked of image models, by tone (another tone is named as a mood).
STYLES = {
    "informative": "natural light, documentary style",
    "calm": "soft light, calm mood",
    "playful": "bright colours, playful mood",
    "excited": "vivid colours, dynamic angle",
    "dramatic": "cinematic lighting, dramatic mood",
    "serious": "muted colours, documentary style",
}


def style_for(tone: str) -> str:
    tone = " ".join((tone or "").split()).lower()
    return STYLES.get(tone) or (f"{tone} mood" if tone else STYLES["informative"])


def _clean_terms(terms: Iterable[str]) -> list[str]:
    """Up to three short lowercase searches, without repeats."""
    cleaned = (" ".join(re.sub(r"[^\w\s'-]", " ", term).split()[:4]).lower() for term in terms)
    return _unique(cleaned)[:3]


# -- the user's own script ----------------------------------------------------
_SENTENCE_BREAK = re.compile(
    r"(?<=[。！？])\s*"  # CJK full stops need no space
    r"|(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+"  # . ! ? (maybe closing a quote), then space
    r"|\s*\n\s*"  # every line break
)


def split_sentences(text: str) -> list[str]:
    """Sentences on . ! ? … and line breaks, punctuation kept; parts with
    nothing to say (blank, or punctuation only) dropped."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if re.search(r"\w", part)]


def script_from_text(text: str, topic: str, language: str, tone: str = "informative") -> Script:
    """The user's own script, one caption per sentence, with search terms and
    visual prompts derived from each sentence and the topic."""
    sentences = split_sentences(text)
    if not sentences:
        raise ScriptError("your script has no sentences")
    title = topic or " ".join(sentences[0].split()[:6]).rstrip(".,;:!?…")
    terms, prompts = derive_scenes(sentences, topic or title, style_for(tone))
    return Script(
        title=title,
        sentences=sentences,
        description=" ".join(sentences[:2]),
        hashtags=_hashtags(title),
        source="user",
        language=language,
        search_terms=terms,
        visual_prompts=prompts,
    )


# -- words (shared with offline_writer.py) --------------------------------------
_WH = {"why", "how", "what", "when", "where", "who", "which"}
_AUX = {
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
_PREPOSITIONS = {
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
_STOPWORDS = (
    _WH
    | _AUX
    | _PREPOSITIONS
    | set(
        "a an and but or so if than then that this these those it its the their them they there "
        "you your we our us i me my he she his her not no yes get gets got make makes made "
        "one two three four five six seven eight nine ten many much more most some any all "
        "really very just only also into onto out up down over under".split()
    )
)
# Words too vague to search footage for (besides the offline templates' own words).
_VAGUE = set(
    "because been being came come comes goes going gone went know knew known think thought "
    "said says say use used uses using called call become became look looks looked seem "
    "seems seemed thing things way ways lot lots something someone every each other another "
    "same such own even still ever never always often here where while after before again "
    "what's it's that's there's let's don't doesn't isn't aren't can't won't through across "
    "around without within during against toward towards upon among since until whether "
    "although though which whose above below beside".split()
)


# -- search terms and visual prompts ---------------------------------------------
def derive_scenes(
    sentences: list[str], topic: str, style: str
) -> tuple[list[list[str]], list[str]]:
    """Per sentence, stock search terms (the sentence's own keywords, the
    longest first, then the topic's) and an image prompt ("<the sentence>,
    <style>, vertical photo", with the topic when the sentence does not name
    it). Keywords are the sentence's words less stop words and vague ones,
    so they are in the script's language."""
    topic_words = _keywords(topic, generic=False)
    subject = " ".join(topic_words[:3]) or " ".join(topic.lower().split()[:3])
    terms, prompts = [], []
    for sentence in sentences:
        own = [w for w in _keywords(sentence) if w not in topic_words]
        ranked = sorted(own, key=len, reverse=True)[:2]
        terms.append(_unique([*ranked, subject, *topic_words[:1]])[:3] or [sentence.lower()[:40]])
        text = " ".join(sentence.split()[:25]).rstrip(".,;:!?…")
        named = any(w in topic_words for w in _keywords(sentence, generic=False))
        what = text if named or not subject else f"{subject}: {text}"
        prompts.append(f"{what}, {style}, vertical photo")
    return terms, prompts


def _keywords(text: str, generic: bool = True) -> list[str]:
    """Content words of ``text``, lowercase, in order, without repeats;
    ``generic=True`` also drops vague words and the offline templates' words."""
    skip = _STOPWORDS | (_VAGUE | TEMPLATE_WORDS if generic else set())
    words = (re.sub(r"'s$", "", w) for w in re.findall(r"[^\W\d_][\w'-]*", text.lower()))
    return _unique(w for w in words if len(w) > 2 and w not in skip)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title_case(text: str) -> str:
    small = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}
    words = text.split()
    return " ".join(
        word
        if any(c.isupper() for c in word)  # keep "NASA", "iPhone"
        else word
        if 0 < i < len(words) - 1 and word in small  # the last word is capitalised
        else _capitalised(word)
        for i, word in enumerate(words)
    )


def _hashtags(text: str) -> list[str]:
    """3-5 lowercase hashtags: up to four topic words, then generic ones."""
    words = _unique(
        w
        for w in re.findall(r"\w+", text.lower())
        if len(w) > 2 and not w.isdigit() and w not in _STOPWORDS
    )
    tags = words[:4] + ["shorts"]
    for generic in ("facts", "explained"):
        if len(tags) < 3:
            tags.append(generic)
    return tags


def _unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item]
