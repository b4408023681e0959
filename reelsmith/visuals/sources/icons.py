"""Icons: an OpenMoji icon for each sentence's idea on a calm field in the
topic's colours (``visuals.icons``); offline, always usable, and the
default when no stock or image source has a key."""

from __future__ import annotations

from reelsmith.visuals.icons.matching import match_sentence, tokens
from reelsmith.visuals.sources.base import Context, NoKey, Pick, Wanted


class Icons(NoKey):
    """The icon that best matches each sentence's words, or none."""

    name = "icons"

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        picks = []
        for want in wanted:
            skip: set[str] = set()
            if want.words is not None:  # only its content words (none: no icon)
                skip = {w.lower() for w in tokens(want.sentence)} - set(want.words)
            icon = match_sentence(
                want.sentence, skip=skip, prefer=tokens(ctx.topic), language=ctx.language
            )
            note = f"icon {icon.emoji} {icon.name} for {icon.word!r}" if icon else "no icon matches"
            picks.append(Pick(None, note, icon))
        return picks
