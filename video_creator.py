"""Render a narrated, captioned video with moviepy 2.x.

The fast path: instead of a ``CompositeVideoClip`` of many clips (which
builds a float mask for every frame and resizes the background with
Pillow), one ``VideoClip`` computes each frame itself:

* overlays (title card, captions, the highlighted word) are rasterised once
  with Pillow, stored premultiplied, and blended into their box only, with
  two SIMD OpenCV calls;
* the generated background moves (Ken-Burns) as a sub-pixel warp of a
  quarter-size image plus one SIMD upscale, about 1 ms at 1080x1920
  (`benchmarks/frame_cost.py`);
* a frame identical to the previous one is not rebuilt.

Audio: the sentences are joined with pauses (cue times are exact sample
offsets), an optional music bed is mixed in and ducked, and the result is
mastered to -14 LUFS with peaks below -2 dBFS. Outputs are written under a
temporary name and renamed into place when complete, so a crash never leaves
a half-written file with the final name.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import cv2
import numpy as np
import proglog
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from config import ASPECTS, RenderSettings, Settings
from exceptions import ReelsmithError, RenderError, TaskCanceled
from speech import Narration, SpeechSynthesizer

if TYPE_CHECKING:  # only a type here; importing the script writer costs ~0.1 s per render process
    from content_generator import Script

log = logging.getLogger(__name__)

FONT_PATH = Path(__import__("fontpkg_noto_sans").ROOT) / "files" / "NotoSans[wdth,wght].ttf"
# Scripts Noto Sans lacks, each from its own pip font package: (first, last code point, package, file)
SCRIPT_FONTS = [
    (0x0600, 0x06FF, "fontpkg_noto_sans_arabic", "NotoSansArabic[wdth,wght].ttf"),
    (0x0750, 0x077F, "fontpkg_noto_sans_arabic", "NotoSansArabic[wdth,wght].ttf"),
    (0xFB50, 0xFEFF, "fontpkg_noto_sans_arabic", "NotoSansArabic[wdth,wght].ttf"),
    (0x0900, 0x097F, "fontpkg_noto_sans_devanagari", "NotoSansDevanagari[wdth,wght].ttf"),
    (0x0E00, 0x0E7F, "fontpkg_noto_sans_thai", "NotoSansThai[wdth,wght].ttf"),
]


def font_for(text: str, default: Path = FONT_PATH) -> Path:
    """The font that has glyphs for ``text``: Noto Sans covers Latin, Cyrillic
    and Greek; Arabic, Devanagari and Thai come from their own Noto packages."""
    for ch in text:
        code = ord(ch)
        for first, last, package, filename in SCRIPT_FONTS:
            if first <= code <= last:
                import importlib

                return Path(importlib.import_module(package).ROOT) / "files" / filename
    return default


def is_rtl(text: str) -> bool:
    return any(0x0590 <= ord(ch) <= 0x08FF or 0xFB1D <= ord(ch) <= 0xFEFF for ch in text)

LEAD_IN = 0.4      # seconds of silence before the first sentence
GAP = 0.3          # seconds of silence between sentences
TAIL = 0.8         # seconds after the last sentence
TITLE_SECONDS = 2.5
KEN_BURNS_ZOOM = 0.12  # the background zooms in by 12 % over the video
TARGET_LUFS = -14.0    # integrated loudness the platforms normalise to
PEAK_CEILING_DB = -2.0  # sample-peak ceiling; leaves room for true peak <= -1 dBTP
MUSIC_BELOW_VOICE_LU = 16.0  # a music bed sits this far under the voice, before ducking

ProgressCallback = Callable[[float], None]


def frame_size(render: RenderSettings, aspect: str = "9:16") -> tuple[int, int]:
    """The frame for ``aspect``, keeping the render's short side (1080 -> 1080x1920,
    1920x1080 or 1080x1080). Sizes are even, as yuv420p needs."""
    if aspect not in ASPECTS:
        raise RenderError(f"aspect must be one of {', '.join(ASPECTS)}")
    aw, ah = ASPECTS[aspect]
    short = min(render.width, render.height)
    even = lambda v: int(round(v / 2)) * 2  # noqa: E731
    return (even(short * aw / min(aw, ah)), even(short * ah / min(aw, ah)))


@dataclass
class Cue:
    """One caption: the sentence and when its audio plays."""

    index: int
    text: str
    start: float
    end: float


@dataclass
class VideoResult:
    video_path: Path
    srt_path: Path
    thumbnail_path: Path
    duration: float
    width: int
    height: int
    voice_engine: str
    cues: list[Cue] = field(default_factory=list)


@dataclass
class RenderJob:
    """One video for ``create_videos_batch``."""

    script: Script
    output_path: Path
    narration: Narration | None = None
    aspect: str = "9:16"
    music: Path | None = None
    backgrounds: Sequence[Path] = ()


class VideoCreator:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        render: RenderSettings | None = None,
        synthesizer: SpeechSynthesizer | None = None,
        max_workers: int = 2,
        ken_burns: bool = True,
        font_path: Path = FONT_PATH,
    ):
        self.settings = settings or Settings.from_env()
        self.render = render or self.settings.render
        self._synthesizer = synthesizer
        self.max_workers = max_workers
        self.ken_burns = ken_burns
        self.font_path = Path(font_path)

    @property
    def synthesizer(self) -> SpeechSynthesizer:
        if self._synthesizer is None:
            self._synthesizer = SpeechSynthesizer(self.settings)
        return self._synthesizer

    # -- public API -------------------------------------------------------
    def create_video(
        self,
        script: Script,
        output_path: str | os.PathLike,
        narration: Narration | None = None,
        *,
        aspect: str = "9:16",
        music: Path | None = None,
        backgrounds: Sequence[Path] = (),
        progress: ProgressCallback | None = None,
    ) -> VideoResult:
        """Render ``script`` to ``output_path`` (an .mp4); also writes .srt and .jpg.

        ``aspect`` is "9:16" (default), "16:9" or "1:1". ``music`` adds a
        ducked music bed; ``backgrounds`` (images and/or clips) replace the
        generated background, one per sentence in turn. Without a
        ``narration`` the script is spoken first with the
        configured voice engine. ``progress`` is called with 0..1 while the
        frames are encoded; it may raise ``TaskCanceled`` to stop the render.
        """
        output_path = Path(output_path)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        work_dir = output_path.parent / f".{output_path.stem}.work"
        work_dir.mkdir(exist_ok=True)
        try:
            if narration is None:
                narration = self.synthesizer.narrate(
                    script.sentences, work_dir, language=script.language
                )
            return self._render(script, narration, output_path, work_dir, aspect, progress,
                                music, list(backgrounds))
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def create_videos_batch(
        self, jobs: Sequence[RenderJob | tuple], max_workers: int | None = None
    ) -> list[VideoResult | ReelsmithError]:
        """Render several videos concurrently with a thread pool.

        Returns one entry per job, in order: a ``VideoResult``, or the
        ``ReelsmithError`` that job failed with (one failure never stops the
        others).
        """
        jobs = [j if isinstance(j, RenderJob) else RenderJob(*j) for j in jobs]
        workers = max_workers or self.max_workers

        def run(job: RenderJob):
            try:
                return self.create_video(job.script, job.output_path, job.narration,
                                         aspect=job.aspect, music=job.music,
                                         backgrounds=job.backgrounds)
            except ReelsmithError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
            return list(pool.map(run, jobs))

    # -- rendering --------------------------------------------------------
    def _render(self, script, narration, output_path, work_dir, aspect, progress,
                music=None, backgrounds=()) -> VideoResult:
        from moviepy import VideoClip

        r = self.render
        size = frame_size(r, aspect)
        raw_audio, cues = assemble_narration(narration, work_dir / "narration.wav")
        audio_path = master_audio(raw_audio, work_dir / "master.wav", music)
        duration = cues[-1].end + TAIL
        frames = FrameMaker(
            size=size,
            duration=duration,
            title=script.title,
            cues=cues,
            seed=script.title,
            font_path=self.font_path,
            ken_burns=self.ken_burns,
            media=backgrounds,
        )

        tmp_video = output_path.with_name(f".{output_path.stem}.partial.mp4")
        srt_path = output_path.with_suffix(".srt")
        thumb_path = output_path.with_suffix(".jpg")
        clip = VideoClip(frame_function=frames, duration=duration)
        logger = _ProgressLogger(progress) if progress else None
        try:
            try:
                encode_video(clip, tmp_video, audio_path, r, logger)
            except ReelsmithError:
                raise
            except Exception as exc:  # a frame that could not be made, ffmpeg missing, ...
                raise RenderError(f"the video could not be rendered: {_first_line(exc)}") from exc
            # Only once the video is complete: subtitles, thumbnail, then the
            # video's final name last, so a canceled or failed render leaves
            # nothing behind under a final name.
            _atomic_write_text(srt_path, to_srt(cues))
            thumb_tmp = thumb_path.with_name(f".{thumb_path.stem}.partial.jpg")
            Image.fromarray(frames(min(1.0, duration / 2))).save(thumb_tmp, quality=88)
            os.replace(thumb_tmp, thumb_path)
            os.replace(tmp_video, output_path)
        finally:
            _unlink(tmp_video)  # gone already when the render succeeded
            clip.close()
            if isinstance(frames.background, MediaBackground):
                frames.background.close()
        return VideoResult(
            video_path=output_path,
            srt_path=srt_path,
            thumbnail_path=thumb_path,
            duration=duration,
            width=size[0],
            height=size[1],
            voice_engine=narration.engine,
            cues=cues,
        )


# -- encoding -------------------------------------------------------------
PIPE_BUFFER = 1 << 20  # bytes; Linux's default 64 KiB pipe means ~50 wake-ups per frame
# The matrix OpenCV's RGB->I420 uses (BT.601, limited range), written into the file.
BT601_TAGS = ["-colorspace", "smpte170m", "-color_primaries", "smpte170m",
              "-color_trc", "smpte170m", "-color_range", "tv"]


def encode_video(clip, path: Path, audio: Path, r: RenderSettings, logger=None) -> None:
    """Encode a moviepy ``clip`` and ``audio`` to ``path``: frames piped as yuv420p.

    moviepy's own writer pipes rgb24 and ffmpeg converts every frame to
    yuv420p (swscale, ~5 CPU-ms a frame at 1080x1920). Here OpenCV converts
    each *distinct* frame once (~1 ms, SIMD), the pipe carries half the
    bytes, and a repeated frame (a still background between two words) is
    written again without any work. Frames still come from moviepy's
    ``iter_frames``, so its progress logger (and a cancel raised from it)
    work as with ``write_videofile``.
    """
    import imageio_ffmpeg

    width, height = clip.size
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
           "-r", str(r.fps), "-i", "-", "-i", str(audio),
           "-c:v", r.codec, "-preset", r.preset, "-pix_fmt", "yuv420p", *BT601_TAGS,
           "-c:a", r.audio_codec, "-b:a", r.audio_bitrate, "-movflags", "+faststart"]
    if r.threads:
        cmd += ["-threads", str(r.threads)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([*cmd, str(path)], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=errors)
        try:
            with contextlib.suppress(AttributeError, OSError):  # not Linux: default pipe
                import fcntl

                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BUFFER)
            last = yuv = None
            for frame in clip.iter_frames(fps=r.fps, logger=logger, dtype="uint8"):
                if frame is not last:
                    last, yuv = frame, cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
                proc.stdin.write(yuv)
            proc.stdin.close()
            proc.wait()
        except BrokenPipeError:  # ffmpeg stopped early; its log says why
            proc.wait()
        finally:
            if proc.poll() is None:  # canceled or failed in Python: stop ffmpeg too
                proc.kill()
                proc.wait()
        if proc.returncode:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            # The first line is the cause; later ones only repeat that it failed.
            cause = re.sub(r"^\[[^]]*\]\s*", "", lines[0]) if lines else f"exit code {proc.returncode}"
            raise RenderError(f"ffmpeg could not encode the video: {cause}")


# -- narration ------------------------------------------------------------
def assemble_narration(narration: Narration, out_path: Path) -> tuple[Path, list[Cue]]:
    """Join the sentence WAVs with short pauses; return the file and the cues.

    Cue times are the exact sample offsets of each sentence in the joined
    track, so captions and the SRT match the voice.
    """
    rate = narration.sample_rate
    pieces = [np.zeros(int(LEAD_IN * rate), dtype=np.int16)]
    cues: list[Cue] = []
    position = len(pieces[0])
    for i, seg in enumerate(narration.segments):
        samples = _read_mono16(seg.path, rate)
        start = position / rate
        pieces.append(samples)
        position += len(samples)
        cues.append(Cue(i + 1, seg.text, start, position / rate))
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
    return out_path, cues


def _ffmpeg(*args: str, failure: str = "ffmpeg failed on the audio") -> str:
    """Run the bundled ffmpeg; return its log (stderr). On failure raises
    ``RenderError("<failure>: <ffmpeg's reason>")``."""
    import imageio_ffmpeg

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
                          capture_output=True, text=True)
    if proc.returncode:  # (the log is at info level, for ebur128: its last line is the cause)
        last = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise RenderError(f"{failure}: {last[0]}")
    return proc.stderr


def integrated_loudness(path: Path, filters: str = "anull") -> float:
    """Integrated loudness (LUFS, EBU R128) of an audio file after ``filters``."""
    log_text = _ffmpeg("-i", str(path), "-af", f"{filters},ebur128=framelog=quiet", "-f", "null", "-")
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
    log_text = _ffmpeg(*music_in, "-af", f"{stereo},ebur128=framelog=quiet", "-f", "null", "-",
                       failure=unreadable)
    found = re.findall(r"I:\s+(-?[\d.]+) LUFS", log_text)
    music_gain = voice_lufs - MUSIC_BELOW_VOICE_LU - (float(found[-1]) if found else -20.0)
    graph = (
        f"[0:a]{layout},asplit[voice][key];"
        f"[1:a]{stereo},volume={music_gain:.2f}dB,afade=t=in:d=1,"
        f"afade=t=out:st={max(0.0, d - 2):.3f}:d=2[music];"
        "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        "[voice][ducked]amix=inputs=2:normalize=0:duration=first[mix]"
    )
    _ffmpeg("-y", "-i", str(voice), *music_in, "-filter_complex", graph, "-map", "[mix]",
            "-c:a", "pcm_s16le", str(dst), failure=unreadable)
    return dst


def _read_mono16(path: Path, expected_rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != expected_rate:
            raise RenderError(f"unexpected audio format in {path.name}")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
    return data


def to_srt(cues: Sequence[Cue]) -> str:
    def stamp(t: float) -> str:
        ms = int(round(t * 1000))
        h, ms = divmod(ms, 3_600_000)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"

    return "".join(
        f"{c.index}\n{stamp(c.start)} --> {stamp(c.end)}\n{c.text}\n\n" for c in cues
    )


# -- frames ---------------------------------------------------------------
class Overlay:
    """An RGBA image pasted at (x, y), blended with two SIMD OpenCV calls.

    Stored premultiplied: ``frame = frame * (255 - a) / 255 + rgb * a / 255``.
    """

    def __init__(self, image: Image.Image, x: int, y: int, frame_size: tuple[int, int]):
        fw, fh = frame_size
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(fw, x + image.width), min(fh, y + image.height)
        rgba = np.asarray(image.convert("RGBA"))[y0 - y:y1 - y, x0 - x:x1 - x]
        alpha = rgba[..., 3:4].astype(np.uint16)
        self.box = (x0, y0, x1, y1)
        self.premultiplied = ((rgba[..., :3] * alpha + 127) // 255).astype(np.uint8)
        self.inverse_alpha = np.repeat(255 - alpha, 3, axis=2).astype(np.uint8)

    def apply(self, frame: np.ndarray) -> None:
        x0, y0, x1, y1 = self.box
        region = frame[y0:y1, x0:x1]
        cv2.multiply(region, self.inverse_alpha, dst=region, scale=1 / 255)
        cv2.add(region, self.premultiplied, dst=region)


class Background:
    """The generated background, still or with a slow Ken-Burns zoom.

    It is soft (gradient and blurred light), so it is generated and moved at
    a quarter of the frame size, then upscaled: a sub-pixel warp of a small
    image plus one SIMD resize per frame, about 1 ms at 1080x1920.
    """

    SCALE = 4

    def __init__(self, size: tuple[int, int], seed: str, duration: float, ken_burns: bool):
        self.size = size
        self.duration = duration
        self.ken_burns = ken_burns
        self.low_size = (max(2, size[0] // self.SCALE), max(2, size[1] // self.SCALE))
        margin = KEN_BURNS_ZOOM if ken_burns else 0.0
        rgb = np.asarray(make_background(self.low_size, seed, margin=margin))
        self.source = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)  # for _warp
        self._still = None if ken_burns else cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)

    def frame_at(self, t: float) -> np.ndarray:
        if self._still is not None:
            return self._still.copy()
        # Zoom from the whole source to 1/(1+zoom) of it, easing in and out,
        # with a slight pan; the affine maps output pixels to source pixels.
        sh, sw = self.source.shape[:2]
        lw, lh = self.low_size
        p = 0.5 - 0.5 * math.cos(math.pi * min(max(t / self.duration, 0.0), 1.0))
        scale = 1.0 - KEN_BURNS_ZOOM / (1 + KEN_BURNS_ZOOM) * p
        bw, bh = sw * scale, sh * scale
        x0 = (sw - bw) * (0.5 + 0.3 * (p - 0.5))
        y0 = (sh - bh) * 0.5
        m = np.array([[bw / lw, 0.0, x0], [0.0, bh / lh, y0]])
        return cv2.resize(_warp(self.source, m, (lw, lh)), self.size, interpolation=cv2.INTER_LINEAR)


def _warp(rgba: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The RGB image of ``size`` whose pixel (x, y) is ``rgba`` at ``m @ (x, y, 1)``
    (sub-pixel, bilinear). The source is RGBA because OpenCV's 4-channel warp
    is vectorised and its 3-channel one is not: warping RGBA and dropping the
    alpha gives the same pixels in well under half the time."""
    out = cv2.warpAffine(rgba, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)


@dataclass(frozen=True)
class Layout:
    """Where text goes, as fractions of the frame.

    On 9:16 the captions keep clear of the bottom 20 % (titles, buttons) and
    the right-hand icon column (16 %) that Shorts / Reels / TikTok draw.
    """

    caption_left: float
    caption_width: float
    caption_center_y: float
    caption_bottom_limit: float   # no caption pixel below this fraction
    title_top: float

    @classmethod
    def for_size(cls, width: int, height: int) -> "Layout":
        if height > width * 1.2:      # portrait, 9:16
            return cls(0.06, 0.78, 0.60, 0.80, 0.16)
        if width > height * 1.2:      # landscape, 16:9
            return cls(0.10, 0.80, 0.76, 0.90, 0.10)
        return cls(0.07, 0.80, 0.68, 0.86, 0.12)  # square


HIGHLIGHT = (255, 214, 10)  # the word being spoken


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
CLIP_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv"}


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (keeping the aspect) and crop the middle."""
    h, w = image.shape[:2]
    scale = max(size[0] / w, size[1] / h)
    nw, nh = max(size[0], round(w * scale)), max(size[1], round(h * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x, y = (nw - size[0]) // 2, (nh - size[1]) // 2
    return resized[y:y + size[1], x:x + size[0]]


class _ImageSource:
    """A still image with a slow Ken-Burns zoom across its span."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from PIL import ImageOps

        with Image.open(path) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        margin = (round(size[0] * (1 + KEN_BURNS_ZOOM)), round(size[1] * (1 + KEN_BURNS_ZOOM)))
        self.source = cv2.cvtColor(_cover(rgb, margin), cv2.COLOR_RGB2RGBA)  # for _warp
        self.size = size

    def frame(self, local_t: float, span: float) -> np.ndarray:
        sh, sw = self.source.shape[:2]
        p = min(max(local_t / span, 0.0), 1.0) if span > 0 else 0.0
        scale = 1.0 - KEN_BURNS_ZOOM / (1 + KEN_BURNS_ZOOM) * p
        bw, bh = sw * scale, sh * scale
        m = np.array([[bw / self.size[0], 0.0, (sw - bw) / 2], [0.0, bh / self.size[1], (sh - bh) / 2]])
        return _warp(self.source, m, self.size)


class _ClipSource:
    """A video clip played from its start for each span, looped if it is shorter."""

    def __init__(self, path: Path, size: tuple[int, int]):
        from moviepy import VideoFileClip

        self.clip = VideoFileClip(str(path), audio=False)
        self.size = size

    def frame(self, local_t: float, span: float) -> np.ndarray:
        t = local_t % max(self.clip.duration - 1 / max(self.clip.fps, 1), 1e-3)
        return np.ascontiguousarray(_cover(self.clip.get_frame(t), self.size))

    def close(self) -> None:
        self.clip.close()


class MediaBackground:
    """The user's own images and clips: one per sentence, in turn. Sentences
    in a row that get the same one (a single image for the whole video) share
    one span, so its Ken-Burns zoom (or the clip) runs on without a jump."""

    def __init__(self, paths: Sequence[Path], size, cues: Sequence[Cue], duration: float):
        sources = []
        for path in paths:
            suffix = Path(path).suffix.lower()
            if suffix in IMAGE_SUFFIXES:
                sources.append(_ImageSource(Path(path), size))
            elif suffix in CLIP_SUFFIXES:
                sources.append(_ClipSource(Path(path), size))
            else:
                raise RenderError(f"{Path(path).name}: not an image or video clip")
        starts = [0.0] + [c.start for c in cues[1:]]
        ends = starts[1:] + [duration]
        self.sources = sources
        self.spans: list[tuple[float, float, _ImageSource | _ClipSource]] = []
        for i, (start, end) in enumerate(zip(starts, ends)):
            source = sources[i % len(sources)]
            if self.spans and self.spans[-1][2] is source:
                start = self.spans.pop()[0]
            self.spans.append((start, end, source))

    def frame_at(self, t: float) -> np.ndarray:
        for start, end, source in self.spans:
            if t < end:
                break
        return source.frame(t - start, end - start)

    def close(self) -> None:
        for source in self.sources:
            if isinstance(source, _ClipSource):
                source.close()


class FrameMaker:
    """``frame(t) -> HxWx3 uint8``: background, title card and the current caption,
    with the word being spoken highlighted."""

    def __init__(self, *, size, duration, title, cues, seed, font_path, ken_burns, media=()):
        self.width, self.height = size
        self.duration = duration
        self.cues = cues
        self.ken_burns = ken_burns
        self.layout = layout = Layout.for_size(*size)
        scale = min(size) / 1080
        self.media = bool(media)
        self.background = (MediaBackground(media, size, cues, duration) if media
                           else Background(size, seed, duration, ken_burns))
        title_box = render_text_box(
            title, font_path, width=int(self.width * 0.84), font_size=int(84 * scale),
            box_alpha=160, max_lines=4,
        )
        self.title = Overlay(title_box.image, (self.width - title_box.image.width) // 2,
                             int(self.height * layout.title_top), size)
        band_left = int(self.width * layout.caption_left)
        band_width = int(self.width * layout.caption_width)
        center_y = int(self.height * layout.caption_center_y)
        max_h = 2 * (int(self.height * layout.caption_bottom_limit) - center_y)
        self.captions: list[Overlay] = []
        self.words: list[list[Overlay]] = []
        self.word_starts: list[list[float]] = []
        for cue in cues:
            lines, font_size = 6, int(64 * scale)
            while True:
                box = render_text_box(cue.text, font_path, width=band_width, font_size=font_size,
                                      box_alpha=0, max_lines=lines, highlight=HIGHLIGHT)
                if box.image.height <= max_h or font_size <= 12:
                    break
                font_size = int(font_size * 0.9)
            x = band_left + (band_width - box.image.width) // 2
            y = center_y - box.image.height // 2
            self.captions.append(Overlay(box.image, x, y, size))
            self.words.append([Overlay(w, x + wx, y + wy, size)
                               for w, (wx, wy) in zip(box.words, box.word_xy)])
            self.word_starts.append(word_times(cue, len(box.words)))
        self._last_key = None
        self._last_frame = None

    def caption_index(self, t: float) -> int | None:
        """The sentence on screen at ``t``: from its start until the next one starts."""
        current = None
        for i, cue in enumerate(self.cues):
            if t >= cue.start:
                current = i
            else:
                break
        return current

    def word_index(self, idx: int, t: float) -> int | None:
        """The word being spoken at ``t`` in caption ``idx`` (None in the pause after it)."""
        if t >= self.cues[idx].end:
            return None
        current = None
        for i, start in enumerate(self.word_starts[idx]):
            if t >= start:
                current = i
        return current

    def __call__(self, t: float) -> np.ndarray:
        idx = self.caption_index(t)
        word = self.word_index(idx, t) if idx is not None else None
        show_title = t < TITLE_SECONDS
        moving = self.ken_burns or self.media
        key = (idx, word, show_title, round(t * 1000) if moving else None)
        if key == self._last_key:
            return self._last_frame
        frame = self.background.frame_at(t)
        if show_title:
            self.title.apply(frame)
        if idx is not None:
            self.captions[idx].apply(frame)
            if word is not None:
                self.words[idx][word].apply(frame)
        self._last_key, self._last_frame = key, frame
        return frame


def make_background(size, seed: str, margin: float = 0.0) -> Image.Image:
    """An offline background: a soft diagonal gradient with blurred light blobs.

    Colours are picked from a hash of ``seed`` so each topic looks different.
    ``margin`` makes the image that much larger than ``size`` for Ken-Burns.
    """
    w = int(round(size[0] * (1 + margin)))
    h = int(round(size[1] * (1 + margin)))
    digest = hashlib.sha256(seed.encode()).digest()
    hue = digest[0] / 255
    c1 = np.array(_hsv(hue, 0.65, 0.35))
    c2 = np.array(_hsv((hue + 0.12) % 1, 0.75, 0.12))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mix = ((xx / w) * 0.35 + (yy / h) * 0.65)[..., None]
    img = Image.fromarray((c1 * (1 - mix) + c2 * mix).astype(np.uint8))
    blobs = Image.new("RGB", (w, h), (0, 0, 0))
    draw = ImageDraw.Draw(blobs)
    for i in range(5):
        cx = digest[1 + i] / 255 * w
        cy = digest[6 + i] / 255 * h
        r = (0.15 + digest[11 + i] / 255 * 0.25) * w
        colour = _hsv((hue + 0.08 * i) % 1, 0.5, 0.45)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    blobs = blobs.filter(ImageFilter.GaussianBlur(radius=max(2, w // 12)))
    return Image.blend(img, Image.fromarray(np.maximum(np.asarray(img), np.asarray(blobs))), 0.6)


def _hsv(h, s, v):
    import colorsys

    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))


def wrap_words(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap measured with the real font; a word longer than a
    line is split by characters rather than drawn past the edge."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.getlength(word) > max_width:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


@dataclass
class TextBox:
    """Rasterised text plus where each word sits, for highlighting."""

    image: Image.Image
    words: list[Image.Image]           # each word drawn alone in the highlight colour
    word_xy: list[tuple[int, int]]     # top-left of each word image inside ``image``


def _bold_font(font_path: Path, size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(font_path), size)
    try:
        font.set_variation_by_name("Bold")
    except (OSError, ValueError):
        pass  # not a variable font: use it as it is
    return font


def render_text_box(
    text: str, font_path: Path, *, width: int, font_size: int, box_alpha: int, max_lines: int,
    highlight: tuple[int, int, int] | None = None,
) -> TextBox:
    """Rasterise ``text`` wrapped to ``width``: white, dark outline, optional box.

    The font shrinks until the text fits in ``max_lines`` lines. With
    ``highlight`` every word is also drawn alone in that colour, so the word
    being spoken can be pasted over the white one.
    """
    pad = max(8, font_size // 3)
    stroke = max(2, font_size // 14)
    font_path = font_for(text, font_path)
    rtl = is_rtl(text)
    while True:
        font = _bold_font(font_path, font_size)
        lines = wrap_words(text, font, width - 2 * pad - 2 * stroke)
        if len(lines) <= max_lines or font_size <= 12:
            break
        font_size = int(font_size * 0.9)
    ascent, descent = font.getmetrics()
    line_h = int((ascent + descent) * 1.08)
    box_w = int(max(font.getlength(line) for line in lines)) + 2 * (pad + stroke)
    box_h = line_h * len(lines) + 2 * (pad + stroke)
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, box_alpha))
    draw = ImageDraw.Draw(img)
    style = dict(font=font, stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
    words, word_xy = [], []
    for i, line in enumerate(lines):
        x = (box_w - font.getlength(line)) / 2
        y = pad + stroke + i * line_h
        draw.text((x, y), line, fill=(255, 255, 255, 255), **style)
        if highlight is None:
            continue
        prefix = ""
        line_w = font.getlength(line)
        for word in line.split(" "):
            # Right-to-left lines start at the right edge (the line is shaped as a whole).
            wx = (x + line_w - font.getlength(prefix + word) if rtl else x + font.getlength(prefix))
            layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
            ImageDraw.Draw(layer).text((wx, y), word, fill=(*highlight, 255), **style)
            bbox = layer.getbbox()
            if bbox:
                words.append(layer.crop(bbox))
                word_xy.append(bbox[:2])
            prefix += word + " "
    return TextBox(img, words, word_xy)


def word_times(cue: Cue, n_words: int) -> list[float]:
    """Estimated start of each word inside a cue: time shared by word length."""
    weights = [len(w) + 2 for w in cue.text.split()][:n_words]
    total = sum(weights) or 1
    starts, t = [], cue.start
    for w in weights:
        starts.append(t)
        t += (cue.end - cue.start) * w / total
    return starts


# -- plumbing -------------------------------------------------------------
class _ProgressLogger(proglog.ProgressBarLogger):
    """Turns moviepy's frame counter into a 0..1 progress callback."""

    def __init__(self, callback: ProgressCallback):
        super().__init__()
        self._callback = callback

    def bars_callback(self, bar, attr, value, old_value=None):
        if bar == "frame_index" and attr == "index":
            total = self.bars[bar].get("total") or 0
            if total:
                self._callback(min(1.0, (value + 1) / total))


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
