"""Generated: the offline background, always usable (the last resort)."""

from __future__ import annotations

from reelsmith.visuals.sources.base import Context, NoKey, Pick, Wanted


class Generated(NoKey):
    """The offline background (visuals.motion), in the topic's own look."""

    name = "generated"

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        return [Pick(None, "generated background") for _ in wanted]
