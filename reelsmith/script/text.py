"""A script: its dataclass, its length budget, the user's own text made a
script, and the search terms and visual prompts derived from its sentences
(the stop words and keywords are in ``reelsmith.core.words``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reelsmith.core.exceptions import ScriptError
from reelsmith.core.languages import split_sentences, word_count
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
from reelsmith.core.words import keywords, unique
from reelsmith.script.templates import TEMPLATE_WORDS
from reelsmith.script.words import hashtags_for

# Part of every cache key: bump it when the prompt or the offline templates
# change, so old cached scripts are not served for the new wording.
PROMPT_VERSION = "4"

MIN_SENTENCES, MAX_SENTENCES = 3, 120  # what a reply from the model must have (600 s)
WORDS_PER_SECOND = 2.5  # calm narration pace, when the voice's is not known
WORDS_PER_SENTENCE = 13  # one caption's worth
LENGTH_TOLERANCE = 0.2  # a reply further than this from the budget is asked again


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
        return sum(word_count(s) for s in self.sentences)


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
    (default ``WORDS_PER_SECOND``; the voice stage's ``words_per_second(voice,
    speed, language, settings)`` gives a voice's). Raises ScriptError naming
    a bad argument."""
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


# -- the user's own script ----------------------------------------------------
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
        hashtags=hashtags_for(title),
        source="user",
        language=language,
        search_terms=terms,
        visual_prompts=prompts,
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
    topic_words = keywords(topic, generic=False)
    subject = " ".join(topic_words[:3]) or " ".join(topic.lower().split()[:3])
    terms, prompts = [], []
    for sentence in sentences:
        own = [w for w in keywords(sentence, vague=TEMPLATE_WORDS) if w not in topic_words]
        ranked = sorted(own, key=len, reverse=True)[:2]
        terms.append(unique([*ranked, subject, *topic_words[:1]])[:3] or [sentence.lower()[:40]])
        text = " ".join(sentence.split()[:25]).rstrip(".,;:!?…")
        named = any(w in topic_words for w in keywords(sentence, generic=False))
        what = text if named or not subject else f"{subject}: {text}"
        prompts.append(f"{what}, {style}, vertical photo")
    return terms, prompts
