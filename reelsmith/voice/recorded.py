"""A narration from your own recording instead of a voice.

The recording (wav, mp3, m4a or ogg; ``NARRATION_MAX_MB``,
``NARRATION_MAX_SECONDS``) is decoded to mono WAV and cut into one clip per
sentence of the script, each with its words' timings: from forced alignment
against espeak-ng (``voice.alignment``), or, with no script, from the word
timestamps of a transcription (``voice.stt``). The result is a ``Narration``
like any voice's, so captions, highlights and scenes follow the recording and
the soundtrack is mastered as usual. No voice speaks."""

from __future__ import annotations

from pathlib import Path

from reelsmith.core.exceptions import AlignmentFailed
from reelsmith.voice.alignment.recording import SentenceClip, align_recording, clips_from_words
from reelsmith.voice.engines.base import ffmpeg_to_wav
from reelsmith.voice.synthesizer import Narration, SpeechSegment
from reelsmith.voice.words import WordTiming

NARRATION_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".ogg"})
NARRATION_MAX_MB = 50.0
NARRATION_MAX_SECONDS = 600.0  # as long as the longest video
RECORDING_RATE = 22050  # Hz: the clips' rate (espeak-ng's, so the features match)


def recorded_narration(
    recording: Path,
    sentences: list[str],
    language: str,
    work_dir: Path,
    words: list[tuple[str, float, float]] | None = None,
) -> Narration:
    """The recording as a narration of ``sentences``. ``words`` (a
    transcription's, in seconds) times it instead of alignment. ScriptMismatch
    when the script is not what the recording says."""
    work_dir.mkdir(parents=True, exist_ok=True)
    wav = work_dir / "recording.wav"
    ffmpeg_to_wav(recording, wav, RECORDING_RATE, "your recording")
    if words is not None:
        clips, method = clips_from_words(wav, sentences, words, work_dir), "transcribed"
    else:
        clips, method = align_recording(wav, sentences, language, work_dir), "aligned"
    if not clips:
        raise AlignmentFailed("your recording has no sentences to show")
    return Narration(
        segments=[_segment(c, method) for c in clips],
        engine="recording",
        language=language,
        sample_rate=RECORDING_RATE,
        voice="recording",
    )


def _segment(clip: SentenceClip, method: str) -> SpeechSegment:
    return SpeechSegment(
        text=clip.text,
        path=clip.path,
        duration=clip.duration,
        words=[WordTiming(w.text, w.start, w.end) for w in clip.words],
        word_timing=method,
    )
