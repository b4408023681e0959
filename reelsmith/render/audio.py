"""The soundtrack: sentences joined with pauses, an optional music bed, mastering.

The sentences are placed with pauses (``AudioTrack``: exact sample offsets,
so captions can be timed to them), an optional music bed is mixed in and
ducked under the voice, and the result is mastered to -14 LUFS integrated
with peaks below -2 dBFS (true peak <= -1 dBTP).
"""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelsmith.core.exceptions import RenderError
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
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


def narration_track(narration: Narration, music: Path | None = None) -> AudioTrack:
    """The narration's sentences in a row: ``LEAD_IN`` of silence, ``GAP``
    between sentences and ``TAIL`` after the last (read from the WAV headers),
    each divided by the narration's speed."""
    rate = narration.sample_rate
    pace = 1 / narration.speed  # the pauses follow the speed, as the speech does
    position = int(LEAD_IN * pace * rate)
    offsets, lengths = [], []
    for i, seg in enumerate(narration.segments):
        length = _frames_of(seg.path, rate)
        offsets.append(position)
        lengths.append(length)
        position += length
        if i < len(narration.segments) - 1:
            position += int(GAP * pace * rate)
    return AudioTrack(
        rate=rate,
        voices=tuple(seg.path for seg in narration.segments),
        offsets=tuple(offsets),
        lengths=tuple(lengths),
        samples=position + int(TAIL * pace * rate),
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
    match = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", log_text)
    return float(match[-1]) if match and match[-1] != "-inf" else -70.0


def master_audio(src: Path, dst: Path, music: Path | None = None) -> Path:
    """Stereo 48 kHz narration at -14 LUFS integrated with peaks held below -2 dBFS.

    Speech has a high crest factor, so a plain gain to -14 LUFS would clip:
    gain, then a limiter, then one correction for what the limiter took.
    With ``music``, it is first mixed in as a bed: looped or cut to length,
    faded in and out, set ``MUSIC_BELOW_VOICE_LU`` under the voice and ducked
    further (sidechain compression) while the voice speaks.
    """
    layout = "aresample=48000,pan=stereo|c0=c0|c1=c0"
    if music is not None:
        src = _mix_music_bed(src, music, dst.with_name("premix.wav"), layout)
        layout = "anull"
    limiter = f"alimiter=limit={10 ** (PEAK_CEILING_DB / 20):.4f}:level=false:attack=2:release=50"
    gain = TARGET_LUFS - integrated_loudness(src, layout)
    for _ in range(2):
        chain = f"{layout},volume={gain:.2f}dB,{limiter}"
        _ffmpeg("-y", "-i", str(src), "-af", chain, "-c:a", "pcm_s16le", str(dst))
        miss = TARGET_LUFS - integrated_loudness(dst)
        if abs(miss) < 0.3:
            break
        gain += miss
    return dst


def _mix_music_bed(voice: Path, music: Path, dst: Path, layout: str) -> Path:
    with wave.open(str(voice), "rb") as w:
        d = w.getnframes() / w.getframerate()
    music_in = ["-stream_loop", "-1", "-t", f"{d:.3f}", "-i", str(music)]
    stereo = "aresample=48000,aformat=channel_layouts=stereo"
    voice_lufs = integrated_loudness(voice, layout)
    unreadable = f"the music bed {Path(music).name} could not be read"
    log_text = _ffmpeg(
        *music_in, "-af", f"{stereo},ebur128=framelog=quiet", "-f", "null", "-", failure=unreadable
    )
    found = re.findall(r"I:\s+(-?[\d.]+) LUFS", log_text)
    music_gain = voice_lufs - MUSIC_BELOW_VOICE_LU - (float(found[-1]) if found else -20.0)
    graph = (
        f"[0:a]{layout},asplit[voice][key];"
        f"[1:a]{stereo},volume={music_gain:.2f}dB,afade=t=in:d=1,"
        f"afade=t=out:st={max(0.0, d - 2):.3f}:d=2[music];"
        "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        "[voice][ducked]amix=inputs=2:normalize=0:duration=first[mix]"
    )
    _ffmpeg(
        "-y",
        "-i",
        str(voice),
        *music_in,
        "-filter_complex",
        graph,
        "-map",
        "[mix]",
        "-c:a",
        "pcm_s16le",
        str(dst),
        failure=unreadable,
    )
    return dst


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
