"""Which music a video gets, from the request's ``music`` value.

``music`` is ``auto`` (the default), ``none``, a mood, a track id, or the
generated name of an uploaded file. ``auto`` takes ``MUSIC_PATH`` when the
server sets one, else a mood from the tone and the topic's words
(``mood_for``); a mood gives one of its tracks, picked by a hash of the
topic, so one topic always gets the same track.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from reelsmith.core.exceptions import BadRequest, RenderError
from reelsmith.music.library import MOODS, Track, of_mood, track, tracks

AUTO, NONE = "auto", "none"
DEFAULT_MOOD = "calm"  # the quietest bed under a voice, when no word says otherwise

# A tone the request names (``tone``) -> its mood; another tone is read word by word.
TONE_MOODS = {
    "calm": "calm",
    "relaxing": "calm",
    "soothing": "calm",
    "playful": "happy",
    "fun": "happy",
    "funny": "happy",
    "cheerful": "happy",
    "happy": "happy",
    "excited": "energetic",
    "dramatic": "energetic",
    "epic": "energetic",
    "upbeat": "energetic",
    "energetic": "energetic",
    "motivational": "energetic",
    "inspiring": "energetic",
    "serious": "nostalgic",
    "sad": "nostalgic",
    "nostalgic": "nostalgic",
    "reflective": "nostalgic",
    "tender": "tender",
    "warm": "tender",
    "romantic": "tender",
    "gentle": "tender",
}
# Words of a topic that lean to a mood (a plural or -s form is read as its singular).
_TOPIC_WORDS = {
    "calm": "sleep rest quiet peace peaceful relax meditation breathe breathing ocean sea rain "
    "water lake river forest tree garden night moon star space galaxy universe planet cloud "
    "snow tea yoga mindful slow whale deep",
    "energetic": "run running runner sport race racing fast speed power workout fitness gym "
    "football soccer basketball game win battle rocket fire storm volcano car engine dance "
    "jump extreme action robot",
    "happy": "happy fun party summer sun sunny holiday vacation birthday food cook cooking "
    "recipe dog puppy cat play toy joy smile laugh colour color colorful beach festival "
    "chocolate candy",
    "nostalgic": "history historical ancient past old memory memories war empire century "
    "civilization vintage retro origin legend myth lost ruin museum medieval coffee",
    "tender": "love family mother mom father dad baby child children kid friend friendship "
    "grandmother grandma wedding kindness care pet kitten home gift",
}
_MOOD_OF_WORD = {w: mood for mood, words in _TOPIC_WORDS.items() for w in words.split()}


@dataclass(frozen=True)
class MusicChoice:
    """The music of one video: where it comes from, its file, and why."""

    asked: str  # the request's value ("upload" for a file)
    source: str  # "library", "upload", "file" (MUSIC_PATH, --music FILE) or "none"
    path: Path | None = None
    track: Track | None = None
    why: str = ""

    def to_dict(self) -> dict:
        """``result.music``: the track and its licence, or the file, or none."""
        out = {"asked": self.asked, "source": self.source, "track": None, "mood": None}
        if self.track is not None:
            out.update(self.track.to_dict(), track=self.track.id)
            del out["id"]
        elif self.source == "upload":
            out["licence"] = "your own file"
        elif self.source == "file":
            out.update(file=self.path.name if self.path else None, licence="the server's own file")
        else:
            out["licence"] = None
        out["why"] = self.why
        return out


def music_choices() -> list[str]:
    """Every text value ``music`` takes: auto, none, the moods, the track ids."""
    return [AUTO, NONE, *MOODS, *(t.id for t in tracks())]


def is_upload(value: str | None) -> bool:
    """Whether a stored ``music`` value is an uploaded file's generated name."""
    return bool(value) and value not in music_choices()


def check_music(value) -> str:
    """A client's ``music`` value, checked (``BadRequest`` naming ``music``)."""
    if value is None:
        return AUTO
    if not isinstance(value, str):
        raise BadRequest("music must be a string (or an audio file in a multipart upload)", "music")
    value = value.strip().lower() or AUTO
    if value not in music_choices():
        raise BadRequest(
            f"music must be auto, none, a mood ({', '.join(MOODS)}) or a track id from "
            f"GET /api/music (got {value[:60]!r}); a file goes in a multipart upload",
            "music",
        )
    return value


def mood_for(topic: str, tone: str) -> tuple[str, str]:
    """The mood for a tone and a topic, and why: a tone that names a mood
    decides; else the topic's words vote; else ``DEFAULT_MOOD``."""
    tone_key = " ".join((tone or "").lower().split())
    if tone_key in TONE_MOODS:
        return TONE_MOODS[tone_key], f"the tone {tone_key!r}"
    votes: dict[str, list[str]] = {}
    for word in re.findall(r"[^\W\d_]+", f"{tone} {topic}".lower()):
        mood = TONE_MOODS.get(word) or _MOOD_OF_WORD.get(word)
        for stem in (
            (word[:-1], word[:-2], word[:-3] + "y") if not mood and word.endswith("s") else ()
        ):
            mood = mood or _MOOD_OF_WORD.get(stem)  # a plural counts as its singular
        if mood:
            votes.setdefault(mood, []).append(word)
    if not votes:
        return DEFAULT_MOOD, "no word of the tone or topic names a mood"
    mood = max(votes, key=lambda m: (len(votes[m]), -MOODS.index(m)))
    return mood, f"the words {', '.join(repr(w) for w in votes[mood])}"


def pick(mood: str, topic: str) -> Track | None:
    """One of the mood's tracks, the same for the same topic."""
    candidates = of_mood(mood)
    if not candidates:
        return None
    digest = hashlib.sha256(" ".join(topic.lower().split()).encode()).digest()
    return candidates[int.from_bytes(digest[:4], "big") % len(candidates)]


def choose_music(
    asked: str | None,
    topic: str,
    tone: str,
    uploads: Path,
    music_path: Path | None = None,
) -> MusicChoice:
    """The music for a request's ``music`` value (``asked``), its topic and
    tone; ``uploads`` is where uploaded files are, ``music_path`` the
    server's ``MUSIC_PATH``. A missing library is recorded, never silent."""
    asked = asked or AUTO
    if asked == NONE:
        return MusicChoice(NONE, "none", why="asked for none")
    if is_upload(asked):
        return MusicChoice("upload", "upload", uploads / asked, why="your own file")
    if asked == AUTO and music_path is not None:
        if not Path(music_path).is_file():
            raise RenderError(
                f"the music bed in MUSIC_PATH does not exist: {Path(music_path).name}"
            )
        return MusicChoice(AUTO, "file", Path(music_path), why="MUSIC_PATH (or --music FILE)")
    if not tracks():
        return MusicChoice(
            asked, "none", why="the music library (immich-memories-music) is missing"
        )
    found = track(asked)
    if found is not None:
        return MusicChoice(asked, "library", found.path, found, why="asked for this track")
    if asked == AUTO:
        mood, reason = mood_for(topic, tone)
        why = f"auto: {mood} from {reason}"
    else:
        mood, why = asked, f"asked for a {asked} track"
    chosen = pick(mood, topic)
    return MusicChoice(asked, "library", chosen.path, chosen, why=why)
