"""The visuals stage: a background for each sentence, from the sources in
``sources/`` (one per file), chosen in ``choosing.py``; the generated looks
and media backgrounds in ``backgrounds.py``."""

from reelsmith.visuals.choosing import (
    VisualsResult,
    check_transition,
    check_visuals,
    choose,
)
from reelsmith.visuals.sources import SOURCES
from reelsmith.visuals.sources.base import Context

__all__ = ["SOURCES", "Context", "VisualsResult", "check_transition", "check_visuals", "choose"]
