"""Ready-made caption styles, one file each, and their one table, ``PRESETS``.

Each file holds one ``STYLE`` (a ``CaptionStyle``); adding a preset is one
file here and one ``register`` line below. ``parse_style`` turns a preset name
or a JSON object of style fields into a checked ``CaptionStyle`` (a bad value
raises ``CaptionStyleError`` naming the field).
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from reelsmith.captions.presets import boxed, classic, karaoke, minimal, pop
from reelsmith.captions.style import CHOICES, FONTS, STYLE_RANGES, CaptionStyle
from reelsmith.core.exceptions import CaptionStyleError

DEFAULT_PRESET = "classic"
PRESETS: dict[str, CaptionStyle] = {}  # in listing order; the page shows them so


def register(name: str, style: CaptionStyle) -> CaptionStyle:
    """Add a preset to ``PRESETS`` under ``name``."""
    PRESETS[name] = style
    return style


register("classic", classic.STYLE)
register("pop", pop.STYLE)
register("karaoke", karaoke.STYLE)
register("boxed", boxed.STYLE)
register("minimal", minimal.STYLE)


def parse_style(value, fonts: dict[str, Path] | None = None) -> CaptionStyle:
    """A preset name, or an object of ``CaptionStyle`` fields (optionally with
    ``"preset"`` to start from). Raises ``CaptionStyleError`` naming the field."""
    fonts = FONTS if fonts is None else fonts
    if value is None or value == "":
        return PRESETS[DEFAULT_PRESET]
    if isinstance(value, str):
        if value not in PRESETS:
            raise CaptionStyleError(
                f"caption_style must be one of {', '.join(PRESETS)} or a style object",
                "caption_style",
            )
        return PRESETS[value]
    if not isinstance(value, dict):
        raise CaptionStyleError("caption_style must be a preset name or an object", "caption_style")
    data = dict(value)
    base = parse_style(data.pop("preset", DEFAULT_PRESET), fonts)
    known = {f.name: f for f in fields(CaptionStyle)}
    changes = {}
    for name, raw in data.items():
        where = f"caption_style.{name}"
        if name not in known:
            raise CaptionStyleError(
                f"{where} is not a caption style field (known: preset, {', '.join(known)})", where
            )
        default = getattr(base, name)
        if isinstance(default, bool):
            if not isinstance(raw, bool):
                raise CaptionStyleError(f"{where} must be true or false", where)
        elif isinstance(default, (int, float)):
            if (
                isinstance(raw, bool)
                or not isinstance(raw, (int, float))
                or (isinstance(default, int) and not float(raw).is_integer())
            ):
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise CaptionStyleError(f"{where} must be {kind}", where)
            raw = type(default)(raw)
            low, high = STYLE_RANGES[name]
            if not low <= raw <= high:
                raise CaptionStyleError(f"{where} must be between {low} and {high}", where)
        elif not isinstance(raw, str):
            raise CaptionStyleError(f"{where} must be a string", where)
        elif name.endswith("_color"):
            if not (
                len(raw) == 7
                and raw[0] == "#"
                and all(c in "0123456789abcdefABCDEF" for c in raw[1:])
            ):
                raise CaptionStyleError(f"{where} must be a colour like #FFD60A", where)
            raw = raw.upper()
        elif name in CHOICES and raw not in CHOICES[name]:
            raise CaptionStyleError(f"{where} must be one of {', '.join(CHOICES[name])}", where)
        elif name == "font" and raw not in fonts:
            raise CaptionStyleError(
                f"{where} must be one of {', '.join(fonts)} (or upload a TTF/OTF file)", where
            )
        changes[name] = raw
    return replace(base, **changes)
