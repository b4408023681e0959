"""The soundtrack: sentences joined with pauses, an optional music bed, mastering.

The sentences are placed with pauses (``AudioTrack``: exact sample offsets,
so captions can be timed to them), an optional music bed is mixed in and
ducked under the voice, and the result is mastered to -14 LUFS integrated
with peaks below -2 dBFS (true peak <= -1 dBTP).
"""

from __future__ import annotations

import math
import re
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelsmith.core.exceptions import RenderError
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
from reelsmith.render import music_bed
from reelsmith.voice.synthesizer import Narration

TARGET_LUFS = -14.0  # integrated loudness the platforms normalise to
PEAK_CEILING_DB = -2.0  # sample-peak ceiling; leaves room for true peak <= -1 dBTP
MUSIC_BELOW_VOICE_LU = 16.0  # a music bed sits this far under the voice, before ducking


@dataclass(frozen=True)
class AudioTrack:
    """The soundtrack of a timeline: each sentence's voice (a WAV) starting at
    its sample in a track of ``samples`` at ``rate``, with silence between,
    and a music bed mixed under it."""

    rate: int
    voices: tuple[Path, ...]
    offsets: tuple[int, ...]  # the first sample of each voice
    lengths: tuple[int, ...]  # the samples of each voice
    samples: int  # the whole track: lead-in, voices, gaps and tail
    music: Path | None = None

    @property
    def spans(self) -> list[tuple[float, float]]:
        """Each voice's (start, end) in seconds: exact sample offsets, so
        captions and subtitles match the voice."""
        return [(o / self.rate, (o + n) / self.rate) for o, n in zip(self.offsets, self.lengths)]


def narration_track(
    narration: Narration,
    music: Path | None = None,
    fps: int | None = None,
    holds: Sequence[float | None] = (),
) -> AudioTrack:
    """The narration's sentences in a row: ``LEAD_IN`` of silence, ``GAP``
    between sentences and ``TAIL`` after the last (read from the WAV headers),
    each divided by the narration's speed.

    With ``fps``, each sentence starts on a video frame (its gap grows by less
    than a frame), so a scene's frames depend on its own content only and an
    unchanged scene's segment can be reused when one before it changes length.
    ``holds[i]`` (seconds, None: none) keeps sentence ``i``'s scene at least
    that long: the pause after its voice grows."""
    rate = narration.sample_rate
    pace = 1 / narration.speed  # the pauses follow the speed, as the speech does
    position = int(LEAD_IN * pace * rate)
    offsets, lengths = [], []
    for i, seg in enumerate(narration.segments):
        if fps:
            position = round(math.ceil(position * fps / rate - 1e-9) * rate / fps)
        length = _frames_of(seg.path, rate)
        offsets.append(position)
        lengths.append(length)
        pause = int((GAP if i < len(narration.segments) - 1 else TAIL) * pace * rate)
        hold = holds[i] if i < len(holds) and holds[i] else 0.0
        scene_start = offsets[-1] if i else 0  # the first scene shows from the start
        position = max(position + length + pause, scene_start + round(hold * rate))
    return AudioTrack(
        rate=rate,
        voices=tuple(seg.path for seg in narration.segments),
        offsets=tuple(offsets),
        lengths=tuple(lengths),
        samples=position,
        music=music,
    )


def join_voices(track: AudioTrack, out_path: Path) -> Path:
    """The voices of ``track`` at their offsets, silence elsewhere, as a mono WAV."""
    samples = np.zeros(track.samples, dtype=np.int16)
    for path, offset, length in zip(track.voices, track.offsets, track.lengths):
        voice = _read_mono16(path, track.rate)[:length]
        samples[offset : offset + len(voice)] = voice
    with wave.open(str(out_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(track.rate)
        w.writeframes(samples.tobytes())
    return out_path


def _ffmpeg(*args: str, failure: str = "ffmpeg failed on the audio") -> str:
    """Run the bundled ffmpeg; return its log (stderr). On failure raises
    ``RenderError("<failure>: <ffmpeg's reason>")``."""
    import imageio_ffmpeg

    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
        capture_output=True,
        text=True,
    )
    if proc.returncode:  # (the log is at info level, for ebur128: its last line is the cause)
        last = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise RenderError(f"{failure}: {last[0]}")
    return proc.stderr


def integrated_loudness(path: Path, filters: str = "anull") -> float:
    """Integrated loudness (LUFS, EBU R128) of an audio file after ``filters``."""
    log_text = _ffmpeg(
        "-i", str(path), "-af", f"{filters},ebur128=framelog=quiet", "-f", "null", "-"
    )
    return _lufs(log_text)


def _lufs(log_text: str) -> float:
    """The integrated loudness in ffmpeg's ebur128 summary (-70 for silence)."""
    match = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", log_text)
    return float(match[-1]) if match and match[-1] != "-inf" else -70.0


def master_audio(src: Path, dst: Path, music: Path | None = None) -> Path:
    """Stereo 48 kHz narration at -14 LUFS integrated with peaks held below -2 dBFS.

    Speech has a high crest factor, so a plain gain to -14 LUFS would clip:
    gain, then a limiter, then one correction for what the limiter took (each
    pass writes ``dst`` and measures it in the same ffmpeg run).
    With ``music``, it is mixed in as a bed in that same run (``_music_graph``):
    from the video's first sample (fade-in 0.4 s), looped with a crossfade or
    cut with a fade-out to length, set ``MUSIC_BELOW_VOICE_LU`` under the voice
    and ducked further (sidechain compression) while the voice speaks.
    """
    layout = "aresample=48000,pan=stereo|c0=c0|c1=c0"
    voice_lufs = integrated_loudness(src, layout)
    inputs, graph = ["-i", str(src)], f"[0:a]{layout}[pre]"
    bed = dst.with_name(f".{dst.stem}.bed.f32")
    if music is not None:  # (16 LU under the voice, the bed adds about 0.1 LU: one pass still)
        with wave.open(str(src), "rb") as w:
            music_lufs = music_bed.write_bed(music, w.getnframes() / w.getframerate(), bed)
        inputs += ["-f", "f32le", "-ar", str(music_bed.RATE), "-ac", "2", "-i", str(bed)]
        graph = _music_graph(layout, voice_lufs - MUSIC_BELOW_VOICE_LU - music_lufs)
    limiter = f"alimiter=limit={10 ** (PEAK_CEILING_DB / 20):.4f}:level=false:attack=2:release=50"
    gain = TARGET_LUFS - voice_lufs
    failure = f"the music bed {music.name} could not be read" if music else "ffmpeg failed"
    meter = "asplit[out][m];[m]ebur128=framelog=quiet[meter]"  # dst measured as it is written
    try:
        for _ in range(3):  # (the first gain is the voice's alone: one pass, mostly)
            chain = f"{graph};[pre]volume={gain:.2f}dB,{limiter},{meter}"
            log_text = _ffmpeg(
                "-y",
                *inputs,
                "-filter_complex",
                chain,
                "-map",
                "[out]",
                "-c:a",
                "pcm_s16le",
                str(dst),
                "-map",
                "[meter]",
                "-f",
                "null",
                "-",
                failure=failure,
            )
            miss = TARGET_LUFS - _lufs(log_text)
            if abs(miss) < 0.3:
                break
            gain += miss
    finally:
        bed.unlink(missing_ok=True)
    return dst


def _music_graph(layout: str, music_gain: float) -> str:
    """The voice (input 0) over the bed (input 1) at ``music_gain`` dB, ducked while it speaks."""
    return (
        f"[0:a]{layout},asplit[voice][key];"
        f"[1:a]volume={music_gain:.2f}dB[music];"
        "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        "[voice][ducked]amix=inputs=2:normalize=0:duration=first[pre]"
    )


def _frames_of(path: Path, expected_rate: int) -> int:
    with wave.open(str(path), "rb") as w:
        _check_format(w, path, expected_rate)
        return w.getnframes()


def _check_format(w: wave.Wave_read, path: Path, expected_rate: int) -> None:
    if w.getsampwidth() != 2 or w.getframerate() != expected_rate:
        raise RenderError(f"unexpected audio format in {path.name}")


def _read_mono16(path: Path, expected_rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        _check_format(w, path, expected_rate)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
    return data
