"""Upload: the user's own images and clips."""

from __future__ import annotations

from reelsmith.visuals.sources.base import Context, NoKey, Pick, Wanted


class Upload(NoKey):
    """The user's own images and clips, one per sentence in turn."""

    name = "upload"

    def pick(self, wanted: list[Wanted], ctx: Context) -> list[Pick]:
        if not ctx.uploads:
            return [Pick(None, "upload: no backgrounds were uploaded") for _ in wanted]
        return [
            Pick(
                ctx.uploads[w.index % len(ctx.uploads)],
                f"upload {ctx.uploads[w.index % len(ctx.uploads)].name}",
            )
            for w in wanted
        ]
