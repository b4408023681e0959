"""The soundtrack: sentences joined with pauses, an optional music bed, mastering.

The sentences are joined with pauses (the spans are exact sample offsets,
so captions can be timed to them), an optional music bed is mixed in and
ducked under the voice, and the result is mastered to -14 LUFS integrated
with peaks below -2 dBFS (true peak <= -1 dBTP).
"""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import numpy as np

from reelsmith.core.exceptions import RenderError
from reelsmith.core.pauses import GAP, LEAD_IN, TAIL
from reelsmith.voice.synthesizer import Narration

TARGET_LUFS = -14.0  # integrated loudness the platforms normalise to
PEAK_CEILING_DB = -2.0  # sample-peak ceiling; leaves room for true peak <= -1 dBTP
MUSIC_BELOW_VOICE_LU = 16.0  # a music bed sits this far under the voice, before ducking


def assemble_narration(
    narration: Narration, out_path: Path
) -> tuple[Path, list[tuple[float, float]]]:
    """Join the sentence WAVs with short pauses; return the file and each
    sentence's (start, end) in seconds: exact sample offsets in the joined
    track, so captions and subtitles match the voice."""
    rate = narration.sample_rate
    pieces = [np.zeros(int(LEAD_IN * rate), dtype=np.int16)]
    spans: list[tuple[float, float]] = []
    position = len(pieces[0])
    for i, seg in enumerate(narration.segments):
        samples = _read_mono16(seg.path, rate)
        start = position / rate
        pieces.append(samples)
        position += len(samples)
        spans.append((start, position / rate))
        if i < len(narration.segments) - 1:
            gap = np.zeros(int(GAP * rate), dtype=np.int16)
            pieces.append(gap)
            position += len(gap)
    pieces.append(np.zeros(int(TAIL * rate), dtype=np.int16))
    with wave.open(str(out_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate(pieces).tobytes())
    return out_path, spans


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


def _read_mono16(path: Path, expected_rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != expected_rate:
            raise RenderError(f"unexpected audio format in {path.name}")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
    return data
