"""Subtitle files: SRT, WebVTT with word timestamps, and ASS with karaoke tags."""

from __future__ import annotations

from collections.abc import Sequence

from reelsmith.captions.presets import DEFAULT_PRESET, PRESETS
from reelsmith.captions.raster import Layout
from reelsmith.captions.style import CaptionStyle
from reelsmith.captions.timing import Cue


def _clock(t: float, sep: str = ",", hours: int = 2, frac: int = 3) -> str:
    units = 10**frac
    n = int(round(t * units))
    h, n = divmod(n, 3600 * units)
    m, n = divmod(n, 60 * units)
    s, n = divmod(n, units)
    return f"{h:0{hours}d}:{m:02d}:{s:02d}{sep}{n:0{frac}d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip: one cue per sentence."""
    return "".join(f"{c.index}\n{_clock(c.start)} --> {_clock(c.end)}\n{c.text}\n\n" for c in cues)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT with each word's start as an inline timestamp (karaoke-style
    cue timestamps, which players and editors use to time words)."""
    out = ["WEBVTT", ""]
    for c in cues:
        text = (
            " ".join(
                w.text if n == 0 else f"<{_clock(w.start, '.')}>{w.text}"
                for n, w in enumerate(c.words)
            )
            or c.text
        )
        out += [str(c.index), f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}", text, ""]
    return "\n".join(out) + "\n"


def _ass_colour(rgb: tuple[int, int, int], alpha: int = 0) -> str:
    r, g, b = rgb
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


def to_ass(
    cues: Sequence[Cue],
    style: CaptionStyle = PRESETS[DEFAULT_PRESET],
    size: tuple[int, int] = (1080, 1920),
) -> str:
    """Advanced SubStation Alpha with karaoke tags: ``{\\kf<cs>}`` before each
    word fills it over its spoken duration (Aegisub, players, editors)."""
    width, height = size
    scale = min(size) / 1080
    align = {"top": 8, "middle": 5, "bottom": 2}[style.position]
    layout = Layout.for_size(width, height)
    margin_v = (
        int(height * (1 - layout.caption_bottom_limit))
        if style.position == "bottom"
        else int(height * layout.caption_top_limit)
    )
    border = 3 if style.box else 1
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Default,Noto Sans,{int(style.size * scale)},"
        f"{_ass_colour(style.rgb('highlight_color'))},{_ass_colour(style.rgb('text_color'))},"
        f"{_ass_colour(style.rgb('outline_color'))},"
        f"{_ass_colour(style.rgb('box_color'), int(255 * (1 - style.box_opacity)))},"
        f"-1,0,0,0,100,100,0,0,{border},{style.outline_width * scale:.0f},0,{align},"
        f"{int(width * layout.caption_left)},{int(width * (1 - layout.caption_left - layout.caption_width))},"
        f"{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    for c in cues:
        parts, t = [], c.start
        for w in c.words:
            lead = int(round((w.start - t) * 100))
            if lead > 0:  # a silence before the word: nothing fills
                parts.append(f"{{\\k{lead}}}")
            dur = max(1, int(round((w.end - w.start) * 100)))
            parts.append(f"{{\\kf{dur}}}{style.cased(w.text)} ")
            t = w.start + dur / 100
        text = "".join(parts).rstrip() or style.cased(c.text)
        events.append(
            f"Dialogue: 0,{_clock(c.start, '.', 1, 2)},{_clock(c.end, '.', 1, 2)},"
            f"Default,,0,0,0,,{text}"
        )
    return "\n".join(header + events) + "\n"


SUBTITLE_FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}


def subtitles(
    cues: Sequence[Cue],
    fmt: str,
    style: CaptionStyle = PRESETS[DEFAULT_PRESET],
    size: tuple[int, int] = (1080, 1920),
) -> str:
    """The cues as a subtitle file in ``fmt`` (a key of ``SUBTITLE_FORMATS``);
    only ASS carries the style and the frame size."""
    if fmt == "ass":
        return to_ass(cues, style, size)
    return {"srt": to_srt, "vtt": to_vtt}[fmt](cues)
