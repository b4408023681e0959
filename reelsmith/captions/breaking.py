"""Where caption lines break, and the units a highlight moves over.

``wrap`` fills lines greedily over UAX #14 break opportunities, measured with
a ``FontChain``'s real fonts; ``units`` gives the highlight units: words, or
CJK characters with their punctuation (Thai, Lao, Khmer and Myanmar words
found with ICU's dictionaries).
"""

from __future__ import annotations

from functools import lru_cache

from icu4py.breakers import LineBreaker
from uniseg.emoji import extended_pictographic
from uniseg.graphemecluster import grapheme_clusters
from uniseg.linebreak import LineBreak, line_break, line_break_units
from uniseg.unicodedatawrapper import east_asian_width

from reelsmith.captions.chain import FontChain

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
