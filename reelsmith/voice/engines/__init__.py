"""The voice engines, one per file, and their one table, ``ENGINES``.

Each engine is a class (``base.Engine``) that says what it is (name,
description, offline, word timings, native speed, its turn in ``auto``,
its pace) and speaks a sentence. ``ENGINES`` feeds ``auto``, validation,
the voice list and the engine table. Adding an engine is one file here and
one line below.

* ``piper``  - offline neural voices (``piper.py``);
* ``espeak`` - offline, ~100 languages (``espeak.py``);
* ``gtts``   - Google Translate's voice, online (``gtts.py``);
* ``edge``   - Microsoft Edge's neural voices, online, no key (``edge.py``);
* ``openai`` - any OpenAI-compatible ``/v1/audio/speech`` (``openai.py``).
"""

from __future__ import annotations

from reelsmith.voice.engines.base import Engine, Voice
from reelsmith.voice.engines.edge import EdgeEngine
from reelsmith.voice.engines.espeak import EspeakEngine
from reelsmith.voice.engines.gtts import GTTSEngine
from reelsmith.voice.engines.openai import OpenAIEngine
from reelsmith.voice.engines.piper import PiperEngine

__all__ = ["ENGINES", "Engine", "Voice", "register"]

# The one table of engines: name -> class. Order is the listing order.
ENGINES: dict[str, type[Engine]] = {}


def register(cls: type[Engine]) -> type[Engine]:
    """Add an engine to ``ENGINES`` under its ``name`` (usable as a decorator)."""
    ENGINES[cls.name] = cls
    return cls


register(PiperEngine)
register(EspeakEngine)
register(GTTSEngine)
register(EdgeEngine)
register(OpenAIEngine)
