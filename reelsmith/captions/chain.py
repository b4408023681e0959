"""A caption font chain: every character drawn by a bundled font that has it.

A ``FontChain`` is the chosen font followed by the fallbacks of ``fonts.py``.
The font of each grapheme cluster (so a ZWJ family, a skin tone or a flag stays
one unit) is the first font whose cmap has all its code points; emoji clusters
try OpenMoji first (drawn with ``embedded_color=True``). Punctuation, digits
and spaces stay in the font of the text around them. A cluster no font has is
dropped and listed by ``missing()``. A mixed line is put in visual order
(UAX #9) run by run.

    chain = FontChain("montserrat", 48, language="zh-CN")
    lines = breaking.wrap(text, chain, max_width=600)
    ascent, descent = chain.metrics(text)
    for i, line in enumerate(lines):
        chain.draw(draw, (x, y + i * line_h), line, fill="white",
                   stroke_width=3, stroke_fill="black")
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageDraw, ImageFont
from uniseg.derived import default_ignorable_code_point
from uniseg.emoji import emoji_presentation, extended_pictographic
from uniseg.graphemecluster import grapheme_clusters

from reelsmith.captions.fonts import (
    DEFAULT_FAMILY,
    Face,
    cmap,
    fallback_faces,
    primary_face,
)
from reelsmith.core.exceptions import FontError

EMOJI_HEIGHT = 0.8  # an emoji's ink is this share of the line (ascent + descent)
EMOJI_ADVANCE = 1.15  # em, fits a flag's ink; OpenMoji's own 1.29 em leaves wide gaps
# OpenMoji's ink per em, measured: 0.87 wide, from 0.86 above the baseline to 0.08 below.
_OPENMOJI_INK, _OPENMOJI_UP, _OPENMOJI_DOWN = 0.89, 0.87, 0.08
_VS15, _VS16, _KEYCAP = "\ufe0e", "\ufe0f", "\u20e3"


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
        primary = primary_face(self.font, self.bold)
        fallbacks = fallback_faces(self.language, self.bold)
        self.faces = [primary] + [f for f in fallbacks if f.path != primary.path]

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
