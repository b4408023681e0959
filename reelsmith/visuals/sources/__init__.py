"""Where each sentence's picture comes from: one source per file, and their
one table, ``SOURCES``.

A source (``base.VisualSource``) has a ``name``, the ``key`` setting it
needs, ``missing()`` (why it cannot be used here) and ``pick()`` (one
``Pick`` per wanted sentence: a file, or none and why). Adding a source is
one file here and one line below. ``reelsmith.visuals.choosing`` asks the
sources in turn.
"""

from __future__ import annotations

from reelsmith.visuals.sources.ai_images import AIImages
from reelsmith.visuals.sources.base import Context, Pick, VisualSource, Wanted
from reelsmith.visuals.sources.generated import Generated
from reelsmith.visuals.sources.icons import Icons
from reelsmith.visuals.sources.pexels import Pexels
from reelsmith.visuals.sources.pixabay import Pixabay
from reelsmith.visuals.sources.upload import Upload

__all__ = ["SOURCES", "Context", "Pick", "VisualSource", "Wanted", "keyed", "register"]

# The table: "auto" takes the first that has a key, in this order; "generated" is last
# because it always works.
SOURCES: dict[str, type[VisualSource]] = {}


def register(cls: type[VisualSource]) -> type[VisualSource]:
    """Add a source to ``SOURCES`` under its ``name`` (usable as a decorator)."""
    SOURCES[cls.name] = cls
    return cls


def keyed() -> list[str]:
    """The sources "auto" considers: those that need a key, in table order."""
    return [name for name, cls in SOURCES.items() if cls.key]


register(Upload)
register(Pexels)
register(Pixabay)
register(AIImages)
register(Icons)
register(Generated)
