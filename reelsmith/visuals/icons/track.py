"""Icons in time: each sentence's icon tied to the spoken word it stands for
(its caption word, whose start is when it pops in), and the order they show
in, each handing over to the next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from reelsmith.visuals.icons.drawing import Appearance, IconShow
from reelsmith.visuals.icons.matching import Icon, forms, tokens
from reelsmith.visuals.icons.palette import palette_of


@dataclass(frozen=True)
class Placed:
    """A sentence's icon, its ``word`` exactly as the caption's, popping in at ``at``."""

    icon: Icon
    at: float


def place(icon: Icon | None, words: Sequence) -> Placed | None:
    """``icon`` tied to the first of ``words`` (the caption's: ``.text``,
    ``.start``) that is its word, punctuation aside; None if none is."""
    if icon is None:
        return None
    wanted = set(forms(icon.word))
    for word in words:
        if any(wanted & set(forms(t)) for t in tokens(word.text)):
            return Placed(replace(icon, word=word.text), word.start)
    return None


def show_for(
    main: Icon | None,
    placed: Sequence[Placed | None],
    scene_ends: Sequence[float],
) -> IconShow:
    """The icons look of a video: the palette of its main icon (else its
    first), the main icon from the start until the first sentence's icon,
    then each sentence's icon from its word to the next one's word (or its
    scene's end when the next sentence has none). An icon that follows
    itself stays on screen instead of popping in again."""
    shown: list[Appearance] = []
    first = next((p for p in placed if p), None)
    if main is not None and scene_ends:
        until = placed[0].at if placed and placed[0] else scene_ends[0]
        if until > 0:
            shown.append(Appearance(main.emoji, 0.0, until))
    for i, p in enumerate(placed):
        if p is None:
            continue
        nxt = placed[i + 1] if i + 1 < len(placed) else None
        end = nxt.at if nxt else scene_ends[i]
        if shown and shown[-1].emoji == p.icon.emoji and shown[-1].end >= p.at - 1e-6:
            shown[-1] = Appearance(p.icon.emoji, shown[-1].start, end)
        else:
            shown.append(Appearance(p.icon.emoji, p.at, end))
    key = main or (first.icon if first else None)
    return IconShow(palette_of(key.emoji if key else None), tuple(shown))


@dataclass(frozen=True)
class IconPicks:
    """What the visuals stage chose: the topic's icon and each sentence's (or None)."""

    main: Icon | None
    per_sentence: tuple[Icon | None, ...]


def placed_icons(picks: IconPicks, cues: Sequence) -> list[Placed | None]:
    """Each cue's icon tied to its spoken word (``place``)."""
    chosen = picks.per_sentence
    return [place(chosen[i] if i < len(chosen) else None, cue.words) for i, cue in enumerate(cues)]
