"""The music stage: the bundled library (``library.py``, the tracks of
``immich-memories-music``) and which music a video gets (``choosing.py``:
auto from the tone and the topic, none, a mood, a track, or an upload). The
mix itself is the render's (``reelsmith/render/audio.py``)."""

from reelsmith.music.choosing import (
    AUTO,
    NONE,
    MusicChoice,
    check_music,
    choose_music,
    is_upload,
    mood_for,
    music_choices,
)
from reelsmith.music.library import MOODS, Track, licence, track, tracks

__all__ = [
    "AUTO",
    "MOODS",
    "NONE",
    "MusicChoice",
    "Track",
    "check_music",
    "choose_music",
    "is_upload",
    "licence",
    "mood_for",
    "music_choices",
    "track",
    "tracks",
]
