"""The bundled music: the tracks of ``immich-memories-music`` (pip, MIT).

28 Opus tracks of about 30 s in five moods, one folder per mood. Each track's
id is its file name without the suffix (``calm_acoustic_1``); its tempo and
key come from the package's LICENSE-MUSIC, which lists every track.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "immich-memories-music"
MOODS = ("calm", "energetic", "happy", "nostalgic", "tender")
# A listed track: "  calm_acoustic_1.opus   68 bpm  C major   seed 101  [acoustic]"
_LISTED = re.compile(r"^\s*(?P<id>[\w-]+)\.opus\s+(?P<bpm>\d+)\s+bpm\s+(?P<key>[A-G][b#]?\s+\w+)")


@dataclass(frozen=True)
class Track:
    """One bundled track."""

    id: str
    mood: str
    path: Path
    tempo: int | None  # beats per minute, from LICENSE-MUSIC
    key: str | None  # e.g. "C major"

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "mood": self.mood,
            "tempo": self.tempo,
            "key": self.key,
            "licence": licence(),
        }


@functools.cache
def licence() -> str:
    """What every bundled track is licensed under, with where it comes from."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "not installed"
    return f"MIT ({PACKAGE} {version}; generated with ACE-Step, no attribution required)"


@functools.cache
def tracks() -> tuple[Track, ...]:
    """Every bundled track, by mood then id; none when the package is missing."""
    try:
        import immich_memories_music
    except ImportError:
        return ()
    listed = {}
    try:
        text = importlib.metadata.distribution(PACKAGE).read_text("licenses/LICENSE-MUSIC") or ""
    except importlib.metadata.PackageNotFoundError:
        text = ""
    for line in text.splitlines():
        if match := _LISTED.match(line):
            listed[match["id"]] = (int(match["bpm"]), " ".join(match["key"].split()))
    root = Path(immich_memories_music.tracks_dir())
    found = []
    for mood in MOODS:
        for path in sorted((root / mood).glob("*.opus")):
            tempo, key = listed.get(path.stem, (None, None))
            found.append(Track(path.stem, mood, path, tempo, key))
    return tuple(found)


def track(track_id: str) -> Track | None:
    return next((t for t in tracks() if t.id == track_id), None)


def of_mood(mood: str) -> list[Track]:
    return [t for t in tracks() if t.mood == mood]
