"""One settings object for the whole app, read from the environment once.

Every setting has a default that works offline on a fresh machine; the
environment variable that overrides it is named next to it.
"""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from reelsmith.core.exceptions import ConfigError

_ROOT = Path(__file__).resolve().parents[2]  # the checkout: instance/ sits beside app.py
ASPECTS = {"9:16": (9, 16), "16:9": (16, 9), "1:1": (1, 1)}  # output shapes: width:height


@dataclass(frozen=True)
class RenderSettings:
    """How videos are encoded. Defaults follow the project's tuned settings."""

    width: int = 1080  # RENDER_WIDTH
    height: int = 1920  # RENDER_HEIGHT
    fps: int = 30  # RENDER_FPS
    threads: int | None = 4  # RENDER_THREADS (passed to ffmpeg; None: x264 chooses)
    preset: str = "medium"  # RENDER_PRESET (x264 preset)
    audio_bitrate: str = "128k"  # RENDER_AUDIO_BITRATE
    codec: str = "libx264"
    audio_codec: str = "aac"

    def __post_init__(self):
        _refuse_negatives(self, prefix="RENDER_")


@dataclass(frozen=True)
class Settings:
    # Script writer (any OpenAI-compatible server)
    openai_api_key: str | None = None  # OPENAI_API_KEY
    openai_base_url: str | None = None  # OPENAI_BASE_URL
    openai_model: str = "gpt-4o-mini"  # OPENAI_MODEL
    openai_timeout: float = 30.0  # OPENAI_TIMEOUT (seconds)
    openai_max_retries: int = 2  # OPENAI_MAX_RETRIES
    # Local script servers (Ollama, LM Studio), probed on loopback only when neither
    # OPENAI_API_KEY nor OPENAI_BASE_URL is set
    discover_local_llm: bool = True  # DISCOVER_LOCAL_LLM
    ollama_host: str = "127.0.0.1:11434"  # OLLAMA_HOST (as Ollama spells it)
    lmstudio_url: str = "http://127.0.0.1:1234"  # LMSTUDIO_URL
    local_llm_timeout: float = 180.0  # LOCAL_LLM_TIMEOUT (seconds: local models are slow)
    # Stock footage (Pexels); without a key the generated background is used
    pexels_api_key: str | None = None  # PEXELS_API_KEY
    pexels_base_url: str = "https://api.pexels.com"  # PEXELS_BASE_URL
    # More visual sources (visuals.py); VISUALS picks one: auto (the best with a key) or a name
    visuals: str = "auto"  # VISUALS: auto | generated | pexels | pixabay | ai
    pixabay_api_key: str | None = None  # PIXABAY_API_KEY
    pixabay_base_url: str = "https://pixabay.com"  # PIXABAY_BASE_URL
    images_base_url: str | None = None  # IMAGES_BASE_URL: an OpenAI-compatible /v1 for images
    images_api_key: str | None = None  # IMAGES_API_KEY
    images_model: str = "gpt-image-1"  # IMAGES_MODEL
    images_parallel: int = 1  # IMAGES_PARALLEL (image requests at once; 1 suits a
    # local server that makes one at a time)
    visuals_timeout: float = 30.0  # VISUALS_TIMEOUT (seconds per stock/image request)
    # Voice
    tts_engine: str = "auto"  # TTS_ENGINE: auto | piper | gtts | espeak
    gtts_timeout: float = 10.0  # GTTS_TIMEOUT (seconds per request)
    gtts_tld: str = "com"  # GTTS_TLD
    piper_voices_dir: Path | None = None  # PIPER_VOICES_DIR: more Piper voices (.onnx + .onnx.json)
    edge_tts_timeout: float = 10.0  # EDGE_TTS_TIMEOUT (seconds to connect / between replies)
    tts_base_url: str | None = None  # TTS_BASE_URL: an OpenAI-compatible /v1 for the "openai" voice
    tts_api_key: str | None = None  # TTS_API_KEY
    tts_model: str = "tts-1"  # TTS_MODEL
    tts_timeout: float = 30.0  # TTS_TIMEOUT (seconds per sentence, "openai" voice)
    # Disk cache
    cache_dir: Path = _ROOT / "instance" / "cache"  # CACHE_DIR
    cache_ttl: float = 7 * 24 * 3600.0  # CACHE_TTL (seconds)
    cache_max_mb: float = 500.0  # CACHE_MAX_MB
    # Where tasks and their videos live
    data_dir: Path = _ROOT / "instance"  # DATA_DIR
    workers: int = 1  # WORKERS (render threads)
    queue_size: int = 100  # QUEUE_SIZE
    shutdown_timeout: float = 30.0  # SHUTDOWN_TIMEOUT (seconds)
    retention_days: float = 7.0  # RETENTION_DAYS (0 = keep forever)
    max_upload_mb: float = 100.0  # MAX_UPLOAD_MB (music + backgrounds, per request)
    min_free_mb: float = 500.0  # MIN_FREE_MB: below this free space in
    # DATA_DIR, new tasks are refused (507)
    music_path: Path | None = None  # MUSIC_PATH: a music bed for every video
    # without an uploaded one (mp3, wav, ...)
    api_token: str | None = None  # API_TOKEN: required on /api/* when set
    allowed_hosts: tuple[str, ...] = ()  # ALLOWED_HOSTS: more Host names to serve
    # (comma list; loopback and the bound address
    # always are)
    webhook_allow_private: bool = False  # WEBHOOK_ALLOW_PRIVATE: let webhooks reach
    # loopback/private/link-local addresses
    # More machines (distributed.py): REDIS_URL switches the task engine on; unset,
    # tasks stay in SQLite with in-process workers
    redis_url: str | None = None  # REDIS_URL: redis://host:6379/0
    storage_url: str | None = None  # STORAGE_URL: a (shared) folder, file:///folder
    # or s3://bucket/prefix (default: DATA_DIR)
    s3_endpoint_url: str | None = None  # S3_ENDPOINT_URL: MinIO, R2, ... (boto3)
    storage_presign: bool = False  # STORAGE_PRESIGN: S3 downloads redirect to a
    # short-lived URL instead of streaming
    engine_heartbeat_timeout: float = 20.0  # ENGINE_HEARTBEAT_TIMEOUT: seconds without a
    # worker's heartbeat before its task runs elsewhere
    max_topic_chars: int = 200
    max_script_chars: int = 5000
    render: RenderSettings = field(default_factory=RenderSettings)

    def __post_init__(self):
        _refuse_negatives(self, prefix="")
        for name in ("queue_size", "images_parallel"):
            if getattr(self, name) < 1:
                raise ConfigError(name.upper(), f"must be at least 1 (got {getattr(self, name)})")

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Settings:
        """Read every field from its environment variable (the field's name in
        capitals; ``RENDER_`` + name for the render settings), converted to the
        field's type. A bad value raises ConfigError naming the variable."""
        env = os.environ if environ is None else environ
        values = _read_env(cls, env, prefix="")
        values["render"] = RenderSettings(**_read_env(RenderSettings, env, prefix="RENDER_"))
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def _refuse_negatives(settings, prefix: str) -> None:
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise ConfigError(prefix + f.name.upper(), f"must not be negative (got {value})")


def _read_env(cls, env, prefix: str) -> dict:
    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        variable = prefix + f.name.upper()
        raw = env.get(variable)
        if raw is None or f.name == "render":
            continue
        try:
            values[f.name] = _convert(hints[f.name], raw.strip())
        except ValueError as exc:
            raise ConfigError(variable, f"{raw!r} is not {exc}") from None
    return values


def _convert(kind, raw: str):
    """Convert one environment value to ``kind`` (a real type, not its name);
    ValueError's message says what was expected."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # X | None
        if not raw:
            return None  # an empty optional setting is unset
        kind = next(a for a in args if a is not type(None))
        args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple:  # a comma list
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if kind is bool:
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ValueError(f"a yes/no value ({'/'.join(TRUE)} or {'/'.join(FALSE)})")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("a whole number") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("a number") from None
    if kind is Path:
        if not raw:
            raise ValueError("a path")
        return Path(raw)
    return raw
