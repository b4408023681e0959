"""The visuals stage: a background for each sentence, from the sources in
``sources/`` (one per file), chosen in ``choosing.py``; a topic's look in
``look.py``, the generated background in ``motion.py``, images and clips in
``media.py``."""

from reelsmith.visuals.choosing import (
    VisualsResult,
    check_visuals,
    choose,
)
from reelsmith.visuals.sources import SOURCES
from reelsmith.visuals.sources.base import Context

__all__ = ["SOURCES", "Context", "VisualsResult", "check_visuals", "choose"]
