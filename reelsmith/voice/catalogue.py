"""The voices on this machine: voice ids, their validation, the voice list
and the engine table (``GET /api/voices``), all from the one table of
engines, ``ENGINES``."""

from __future__ import annotations

from reelsmith.core.exceptions import UnknownVoice
from reelsmith.core.languages import canonical
from reelsmith.core.settings import Settings
from reelsmith.voice.engines import ENGINES, Voice


def parse_voice_id(voice_id: str) -> tuple[str, str | None]:
    """ "edge:de-DE-KatjaNeural" -> ("edge", "de-DE-KatjaNeural"); "piper" -> ("piper", None)."""
    engine, _, voice = (voice_id or "auto").strip().partition(":")
    engine = engine.lower()
    if engine != "auto" and engine not in ENGINES:
        raise UnknownVoice(
            f"unknown voice {voice_id!r}: choose auto, an engine "
            f"({', '.join(ENGINES)}) or a voice id from /api/voices"
        )
    if engine == "auto" and voice:
        raise UnknownVoice(f"unknown voice {voice_id!r}")
    return engine, (voice or None)


def check_voice(voice_id: str, language: str, settings: Settings) -> str:
    """The normalised voice id (``auto``, an engine name, or ``engine:voice``)
    or UnknownVoice saying why (unknown engine or voice, an engine that does
    not speak ``language``, an engine that is not set up here)."""
    engine_name, voice = parse_voice_id(voice_id)
    if engine_name == "auto":
        return "auto"
    engine = ENGINES[engine_name](settings)
    if voice is not None:
        return f"{engine_name}:{engine.check(voice)}"
    engine.require()
    if not engine.supports(language):
        raise UnknownVoice(f"the {engine_name} voice does not speak {language!r}")
    return engine_name


def list_voices(settings: Settings) -> list[Voice]:
    """Every voice on this machine, engine by engine (Edge's from its voice
    list, fetched once with a short timeout: none when unreachable; openai's
    only when TTS_BASE_URL or TTS_API_KEY is set)."""
    return [voice for cls in ENGINES.values() for voice in cls(settings).voices()]


def engine_table(settings: Settings) -> list[dict]:
    """The engines: name, description, offline, word timings, languages and
    whether they can speak here now (``available``, ``unavailable_reason``)."""
    rows = []
    for name, cls in ENGINES.items():
        engine = cls(settings)
        reason = engine.unavailable()
        rows.append(
            {
                "engine": name,
                "description": cls.description,
                "offline": cls.offline,
                "word_timings": cls.word_timings,
                "languages": engine.languages(),
                "available": reason is None,
                "unavailable_reason": reason,
            }
        )
    return rows


def language_names() -> dict[str, str]:
    """Code -> English name of every language some engine speaks, for the
    page's list (the engines' names, a later engine's where both name one;
    codes canonical)."""
    names: dict[str, str] = {}
    for cls in ENGINES.values():
        names.update({canonical(code): n for code, n in cls.language_names().items()})
    names.update(
        {
            "zh": "Chinese (Mandarin)",
            "zh-CN": "Chinese (Simplified)",
            "zh-TW": "Chinese (Traditional)",
            "zh-HK": "Cantonese",
            "ja": "Japanese",
            "ko": "Korean",
        }
    )
    return dict(sorted(names.items()))


def last_resort() -> str:
    """The engine ``auto`` tries last: whose pace stands for auto's when no
    engine speaks the language."""
    ranked = [cls for cls in ENGINES.values() if cls.auto_rank is not None]
    return max(ranked, key=lambda cls: cls.auto_rank).name
