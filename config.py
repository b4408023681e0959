"""One settings object for the whole app, read from the environment once.

Every setting has a default that works offline on a fresh machine; the
environment variable that overrides it is named next to it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
ASPECTS = {"9:16": (9, 16), "16:9": (16, 9), "1:1": (1, 1)}  # output shapes: width:height


@dataclass(frozen=True)
class RenderSettings:
    """How videos are encoded. Defaults follow the project's tuned settings."""

    width: int = 1080                 # RENDER_WIDTH
    height: int = 1920                # RENDER_HEIGHT
    fps: int = 30                     # RENDER_FPS
    threads: int | None = 4           # RENDER_THREADS (passed to ffmpeg; None: x264 chooses)
    preset: str = "medium"            # RENDER_PRESET (x264 preset)
    audio_bitrate: str = "128k"       # RENDER_AUDIO_BITRATE
    codec: str = "libx264"
    audio_codec: str = "aac"


@dataclass(frozen=True)
class Settings:
    # Script writer (any OpenAI-compatible server)
    openai_api_key: str | None = None          # OPENAI_API_KEY
    openai_base_url: str | None = None         # OPENAI_BASE_URL
    openai_model: str = "gpt-4o-mini"          # OPENAI_MODEL
    openai_timeout: float = 30.0               # OPENAI_TIMEOUT (seconds)
    openai_max_retries: int = 2                # OPENAI_MAX_RETRIES
    # Stock footage (Pexels); without a key the generated background is used
    pexels_api_key: str | None = None          # PEXELS_API_KEY
    pexels_base_url: str = "https://api.pexels.com"  # PEXELS_BASE_URL
    # Voice
    tts_engine: str = "auto"                   # TTS_ENGINE: auto | piper | gtts | espeak
    gtts_timeout: float = 10.0                 # GTTS_TIMEOUT (seconds per request)
    gtts_tld: str = "com"                      # GTTS_TLD
    # Disk cache
    cache_dir: Path = _ROOT / "instance" / "cache"   # CACHE_DIR
    cache_ttl: float = 7 * 24 * 3600.0               # CACHE_TTL (seconds)
    cache_max_mb: float = 500.0                      # CACHE_MAX_MB
    # Where tasks and their videos live
    data_dir: Path = _ROOT / "instance"              # DATA_DIR
    workers: int = 1                                 # WORKERS (render threads)
    queue_size: int = 100                            # QUEUE_SIZE
    shutdown_timeout: float = 30.0                   # SHUTDOWN_TIMEOUT (seconds)
    retention_days: float = 7.0                      # RETENTION_DAYS (0 = keep forever)
    max_upload_mb: float = 100.0                     # MAX_UPLOAD_MB (music + backgrounds, per request)
    music_path: Path | None = None                   # MUSIC_PATH: a music bed for every video
                                                     # without an uploaded one (mp3, wav, ...)
    api_token: str | None = None                     # API_TOKEN: required on /api/* when set
    max_topic_chars: int = 200
    max_script_chars: int = 5000
    render: RenderSettings = field(default_factory=RenderSettings)

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or f.name == "render":
                continue
            values[f.name] = _convert(f.type, raw)
        render_values = {}
        for f in fields(RenderSettings):
            raw = env.get("RENDER_" + f.name.upper())
            if raw is not None:
                render_values[f.name] = _convert(f.type, raw)
        values["render"] = RenderSettings(**render_values)
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def _convert(type_name: str, raw: str):
    if not raw and "None" in type_name:  # an empty optional setting is unset
        return None
    if "Path" in type_name:
        return Path(raw)
    if type_name.startswith("float"):
        return float(raw)
    if type_name.startswith("int"):
        return int(raw)
    return raw
