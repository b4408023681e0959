"""The built-in offline writer: a deterministic, template-based English
script for a topic, used when no script server is available.

The topic is read grammatically (a direct question, an embedded question or
a noun phrase) so the templates can phrase it naturally; the templates are
picked by a hash of the topic, then swapped for shorter or longer ones until
the script fits the word budget (``text.word_budget``). Its scripts always
say ``language="en"``.

``content_generator`` calls it when no server answers. Its templates are in
``templates.py``, whose words (``TEMPLATE_WORDS``) are too vague to search
stock footage for.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

from reelsmith.core.languages import word_count
from reelsmith.core.words import AUX, PREPOSITIONS, WH, keywords, unique
from reelsmith.script.templates import (
    BODY,
    CALLS_TO_FOLLOW,
    HOOKS,
    PRIORITY,
    SHOTS,
    TAKEAWAYS,
    TONES,
)
from reelsmith.script.text import Script, estimated_seconds, style_for, word_budget
from reelsmith.script.words import capitalised, hashtags_for, title_case

_BE = {"is", "are", "was", "were"}


@dataclass(frozen=True)
class _Topic:
    text: str  # whitespace-normalised, without trailing punctuation
    question: str | None  # a direct question: "Why is the sky blue?"
    clause: str | None  # an embedded question: "why octopuses have three hearts"
    subject: str | None  # a noun phrase: "black holes"

    @property
    def kind(self) -> str:
        return "question" if self.question or self.clause else "subject"


def _read_topic(topic: str) -> _Topic:
    """What the topic is, grammatically, so templates can phrase it naturally."""
    text = " ".join(topic.split()).rstrip("?.!").strip() or topic.strip()
    words = text.split()
    first, second = (w.lower() for w in (words + [""])[:2])
    rest = words[2:]
    if first in WH and second in AUX and rest:  # "why is the sky blue"
        clause = subject = None
        if second == "do":  # "how do bees make honey"
            clause = " ".join([first] + rest)
        elif (
            first in {"what", "who"}
            and second in _BE  # "what is a black hole"; not
            and rest[0].lower() not in PREPOSITIONS  # "what is inside a black hole"
            and rest[-1].lower() not in PREPOSITIONS
        ):  # or "what is it made of"
            subject = " ".join(rest)
            clause = f"{first} {subject} {second}"
        return _Topic(text, capitalised(text) + "?", clause, subject)
    if first in WH and second:  # "why octopuses have three hearts"
        return _Topic(text, None, _lower_first(text), None)
    if (first in AUX and second) or topic.rstrip().endswith("?"):  # "do fish sleep"
        clause = " ".join(["whether"] + words[1:]) if first == "do" else None
        return _Topic(text, capitalised(text) + "?", clause, None)
    return _Topic(text, None, None, _lower_first(text))  # "black holes"


def offline_script(
    topic: str,
    target_seconds: float = 30,
    words_per_second: float | None = None,
    tone: str = "informative",
) -> Script:
    """A sensible, deterministic English script built from templates: a hook,
    what it is, how it works, why it matters, its history, a surprising
    angle, details, a takeaway and a call to follow. Longer targets keep more
    parts and more sentences per part; the templates are picked by a hash of
    the topic, then swapped for shorter or longer ones until the script's
    length fits the word budget. No sentence repeats."""
    budget = word_budget(target_seconds, words_per_second)
    parsed = _read_topic(topic)
    digest = hashlib.sha256(parsed.text.lower().encode()).digest()
    fields = {
        "question": parsed.question,
        "clause": parsed.clause,
        "subject": parsed.subject,
        "about": parsed.clause or parsed.subject,
        "seconds": f"{budget.target_seconds:g}",
    }
    pools = {
        "hook": HOOKS[parsed.kind],
        **BODY,
        "takeaway": TAKEAWAYS[parsed.kind],
        "call": CALLS_TO_FOLLOW,
    }
    options: dict[str, list[str]] = {}  # per part: its usable sentences, in the topic's order
    for slot, (part, templates) in enumerate(pools.items()):
        usable = [capitalised(t.format(**fields)) for t in templates if _fits(t, fields)]
        turn = digest[slot] % len(usable)
        options[part] = usable[turn:] + usable[:turn]
    room = sum(len(options[part]) for part in BODY)
    nominal = max(1, min(room, budget.sentences - 3))
    best: tuple[float, list[tuple[str, str]]] | None = None
    counts = sorted(range(room + 1), key=lambda b: (abs(b - nominal), b))
    most = sum(word_count(s) for part in BODY for s in options[part]) + sum(
        max(map(word_count, options[part])) for part in ("hook", "takeaway", "call")
    )
    if most < budget.words_for(room + 3):
        # Every sentence cannot fill the target: fewer (less pause, but a few
        # words less each) fall shorter still, so only the longest is tried.
        counts = [room]
    for body in counts:
        target = budget.words_for(body + 3)
        sentences = _fit(_plan(body, options), options, target)
        miss = abs(sum(word_count(s) for _, s in sentences) - target)
        if best is None or miss < best[0]:
            best = (miss, sentences)
        if miss <= max(1.0, 0.03 * target):
            break
    assert best is not None
    sentences = [s for _, s in best[1]]
    title = title_case(parsed.text) + ("?" if parsed.question else "")
    subject = " ".join(keywords(parsed.text, generic=False)[:3]) or parsed.text.lower()
    style = style_for(tone)
    script = Script(
        title=title,
        sentences=sentences,
        description=f"{title} A {budget.target_seconds:g}-second explainer."
        if title.endswith("?")
        else f"{title}: a {budget.target_seconds:g}-second explainer.",
        hashtags=hashtags_for(parsed.text),
        source="offline",
        language="en",
        search_terms=[
            unique([subject, *keywords(parsed.text, generic=False)[:2]])[:3] for _ in sentences
        ],
        visual_prompts=[
            f"{subject}, {_shot(i)}, {style}, vertical photo" for i in range(len(sentences))
        ],
    )
    seconds = estimated_seconds(script.words, len(sentences), budget.words_per_second)
    if abs(seconds - budget.target_seconds) > 0.1 * budget.target_seconds:
        script.note = (
            f"the offline writer could only fit {script.words} words "
            f"(about {seconds:.0f} s read aloud) to a target of "
            f"{budget.target_seconds:g} s"
        )
    return script


def _shot(index: int) -> str:
    shot = SHOTS[index % len(SHOTS)]
    tone = TONES[index // len(SHOTS) % len(TONES)]
    return f"{shot}, {tone}" if tone else shot


def _plan(body: int, options: dict[str, list[str]]) -> list[tuple[str, int]]:
    """The script's slots as (part, n-th sentence of that part), in telling
    order, for ``body`` sentences between the hook and the takeaway."""
    taken = dict.fromkeys(BODY, 0)
    while sum(taken.values()) < body:
        for part in PRIORITY:
            if sum(taken.values()) < body and taken[part] < len(options[part]):
                taken[part] += 1
    return (
        [("hook", 0)]
        + [(part, i) for part in BODY for i in range(taken[part])]
        + [("takeaway", 0), ("call", 0)]
    )


def _fit(
    plan: list[tuple[str, int]], options: dict[str, list[str]], target: float
) -> list[tuple[str, str]]:
    """Fill the slots with the topic's first choices, then swap a slot's
    sentence for an unused one of its part while that brings the word count
    closer to ``target``."""
    chosen = [options[part][i] for part, i in plan]
    total = sum(word_count(s) for s in chosen)
    improved = True
    while improved and abs(total - target) > 0.5:
        improved = False
        for slot, (part, _) in enumerate(plan):
            used = set(chosen)
            for other in options[part]:
                if other in used:
                    continue
                new_total = total - word_count(chosen[slot]) + word_count(other)
                if abs(new_total - target) < abs(total - target):
                    chosen[slot], total, improved = other, new_total, True
                    used = set(chosen)
    return [(part, sentence) for (part, _), sentence in zip(plan, chosen)]


def _fits(template: str, fields: dict[str, str | None]) -> bool:
    return all(
        fields.get(name) is not None for _, name, _, _ in string.Formatter().parse(template) if name
    )


def _lower_first(text: str) -> str:
    """Lower-case a leading function word ("Why", "The") so the phrase fits
    mid-sentence; other words (maybe names) keep their case."""
    first, _, rest = text.partition(" ")
    if first.lower() in WH | AUX | {"the", "a", "an"}:
        first = first.lower()
    return f"{first} {rest}".strip()
