"""One settings object for the whole app, read from the environment once.

``Settings`` holds one frozen group per concern: ``script``, ``voice``,
``visuals``, ``render``, ``tasks``, ``storage``, ``server`` and ``publish``; code reads
``settings.voice.tts_engine``. Every setting has a default that works offline
on a fresh machine. Its environment variable is its name in capitals
(``RENDER_`` + name in the render group), unless the field's metadata names
another (``env``); ``Settings.variables()`` lists them all.

    settings = Settings.from_env()                 # what app.py does, once
    settings = Settings.build(workers=2, cache_dir=tmp)   # flat names, in tests
    settings.with_(tts_engine="espeak")            # a changed copy
"""

from __future__ import annotations

import os
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import ClassVar

from reelsmith.core.exceptions import ConfigError

_ROOT = Path(__file__).resolve().parents[2]  # the checkout: instance/ sits beside app.py
ASPECTS = {"9:16": (9, 16), "16:9": (16, 9), "1:1": (1, 1)}  # output shapes: width:height


class _Group:
    """What every settings group shares: its variables' prefix, and no
    negative numbers."""

    PREFIX: ClassVar[str] = ""
    AT_LEAST_ONE: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if value < 0:
                    raise ConfigError(
                        variable(type(self), f), f"must not be negative (got {value})"
                    )
                if f.name in self.AT_LEAST_ONE and value < 1:
                    raise ConfigError(variable(type(self), f), f"must be at least 1 (got {value})")


@dataclass(frozen=True)
class ScriptSettings(_Group):
    """The script writer: any OpenAI-compatible server, else a local one
    (Ollama, LM Studio) probed on loopback when neither OPENAI_API_KEY nor
    OPENAI_BASE_URL is set, else the offline writer."""

    openai_api_key: str | None = None  # OPENAI_API_KEY
    openai_base_url: str | None = None  # OPENAI_BASE_URL
    openai_model: str = "gpt-4o-mini"  # OPENAI_MODEL
    openai_timeout: float = 30.0  # OPENAI_TIMEOUT (seconds)
    openai_max_retries: int = 2  # OPENAI_MAX_RETRIES
    discover_local_llm: bool = True  # DISCOVER_LOCAL_LLM
    ollama_host: str = "127.0.0.1:11434"  # OLLAMA_HOST (as Ollama spells it)
    lmstudio_url: str = "http://127.0.0.1:1234"  # LMSTUDIO_URL
    local_llm_timeout: float = 180.0  # LOCAL_LLM_TIMEOUT (seconds: local models are slow)


@dataclass(frozen=True)
class VoiceSettings(_Group):
    """The voice engines."""

    tts_engine: str = "auto"  # TTS_ENGINE: auto | piper | gtts | espeak
    gtts_timeout: float = 10.0  # GTTS_TIMEOUT (seconds per request)
    gtts_tld: str = "com"  # GTTS_TLD
    piper_voices_dir: Path | None = None  # PIPER_VOICES_DIR: more Piper voices (.onnx + .onnx.json)
    edge_tts_timeout: float = 10.0  # EDGE_TTS_TIMEOUT (seconds to connect / between replies)
    tts_base_url: str | None = None  # TTS_BASE_URL: an OpenAI-compatible /v1 for the "openai" voice
    tts_api_key: str | None = None  # TTS_API_KEY
    tts_model: str = "tts-1"  # TTS_MODEL
    tts_timeout: float = 30.0  # TTS_TIMEOUT (seconds per sentence, "openai" voice)
    # Transcribing an uploaded narration that comes without its script: any
    # OpenAI-compatible /v1/audio/transcriptions with word timestamps (a local
    # faster-whisper server, or OpenAI). Unset: a narration needs its script.
    stt_base_url: str | None = None  # STT_BASE_URL
    stt_api_key: str | None = None  # STT_API_KEY
    stt_model: str = "whisper-1"  # STT_MODEL
    stt_timeout: float = 300.0  # STT_TIMEOUT (seconds for one recording)

    @property
    def stt_configured(self) -> bool:
        return bool(self.stt_base_url or self.stt_api_key)


@dataclass(frozen=True)
class VisualsSettings(_Group):
    """The visual sources; without a key the generated background is used."""

    AT_LEAST_ONE: ClassVar[tuple[str, ...]] = ("images_parallel",)

    # VISUALS: auto (the best with a key, else icons) | icons | generated | pexels | pixabay | ai
    source: str = field(default="auto", metadata={"env": "VISUALS"})
    pexels_api_key: str | None = None  # PEXELS_API_KEY
    pexels_base_url: str = "https://api.pexels.com"  # PEXELS_BASE_URL
    pixabay_api_key: str | None = None  # PIXABAY_API_KEY
    pixabay_base_url: str = "https://pixabay.com"  # PIXABAY_BASE_URL
    images_base_url: str | None = None  # IMAGES_BASE_URL: an OpenAI-compatible /v1 for images
    images_api_key: str | None = None  # IMAGES_API_KEY
    images_model: str = "gpt-image-1"  # IMAGES_MODEL
    # IMAGES_PARALLEL: image requests at once (1 suits a local server that makes one at a time)
    images_parallel: int = 1
    visuals_timeout: float = 30.0  # VISUALS_TIMEOUT (seconds per stock/image request)


@dataclass(frozen=True)
class RenderSettings(_Group):
    """How videos are rendered: frame size and rate, the encoder (defaults
    follow the project's tuned settings), and the default music bed."""

    PREFIX: ClassVar[str] = "RENDER_"

    width: int = 1080  # RENDER_WIDTH
    height: int = 1920  # RENDER_HEIGHT
    fps: int = 30  # RENDER_FPS
    threads: int | None = 4  # RENDER_THREADS (passed to ffmpeg; None: x264 chooses)
    preset: str = "medium"  # RENDER_PRESET (x264 preset)
    audio_bitrate: str = "128k"  # RENDER_AUDIO_BITRATE
    codec: str = "libx264"  # RENDER_CODEC
    audio_codec: str = "aac"  # RENDER_AUDIO_CODEC
    # MUSIC_PATH: the music of every video whose music is auto (instead of a bundled track)
    music_path: Path | None = field(default=None, metadata={"env": "MUSIC_PATH"})


@dataclass(frozen=True)
class TasksSettings(_Group):
    """The task queue, its workers and webhooks. REDIS_URL switches the
    distributed engine on; unset, tasks stay in SQLite with in-process workers."""

    AT_LEAST_ONE: ClassVar[tuple[str, ...]] = ("queue_size",)

    workers: int = 1  # WORKERS (render threads)
    queue_size: int = 100  # QUEUE_SIZE
    shutdown_timeout: float = 30.0  # SHUTDOWN_TIMEOUT (seconds)
    # ALLOW_PRIVATE_URLS: let webhooks and media URLs reach loopback/private/link-local
    # addresses (WEBHOOK_ALLOW_PRIVATE, the older name, does the same)
    allow_private_urls: bool = field(default=False, metadata={"env": "ALLOW_PRIVATE_URLS"})
    webhook_allow_private: bool = False  # WEBHOOK_ALLOW_PRIVATE: an alias of the above
    redis_url: str | None = None  # REDIS_URL: redis://host:6379/0
    # ENGINE_HEARTBEAT_TIMEOUT: seconds without a worker's heartbeat before its task runs elsewhere
    engine_heartbeat_timeout: float = 20.0

    @property
    def private_urls(self) -> bool:
        """Whether loopback/private addresses may be fetched or posted to."""
        return self.allow_private_urls or self.webhook_allow_private


@dataclass(frozen=True)
class StorageSettings(_Group):
    """Where tasks, outputs, uploads and the disk cache live, and for how long."""

    data_dir: Path = _ROOT / "instance"  # DATA_DIR
    # STORAGE_URL: a (shared) folder, file:///folder or s3://bucket/prefix (default: DATA_DIR)
    storage_url: str | None = None
    s3_endpoint_url: str | None = None  # S3_ENDPOINT_URL: MinIO, R2, ... (boto3)
    # STORAGE_PRESIGN: S3 downloads redirect to a short-lived URL instead of streaming
    storage_presign: bool = False
    retention_days: float = 7.0  # RETENTION_DAYS (0 = keep forever)
    min_free_mb: float = 500.0  # MIN_FREE_MB: below this free space in DATA_DIR, tasks are refused
    cache_dir: Path = _ROOT / "instance" / "cache"  # CACHE_DIR
    cache_ttl: float = 7 * 24 * 3600.0  # CACHE_TTL (seconds)
    cache_max_mb: float = 500.0  # CACHE_MAX_MB


@dataclass(frozen=True)
class ServerSettings(_Group):
    """What the web server accepts, and from whom."""

    api_token: str | None = None  # API_TOKEN: required on /api/* when set
    # ALLOWED_HOSTS: more Host names to serve (comma list; loopback and the bound address always are)
    allowed_hosts: tuple[str, ...] = ()
    max_upload_mb: float = 100.0  # MAX_UPLOAD_MB (music + backgrounds, per request)
    max_topic_chars: int = 200  # MAX_TOPIC_CHARS
    max_script_chars: int = 10000  # MAX_SCRIPT_CHARS (600 s of narration is some 8200)
    # Set by the `flask` command: workers start on the first request, and .env is read.
    under_flask_cli: bool = field(
        default=False,
        metadata={"env": "FLASK_RUN_FROM_CLI", "parse": lambda raw: raw == "true"},
    )


@dataclass(frozen=True)
class PublishSettings(_Group):
    """Publishing to YouTube and TikTok (reelsmith/publish/): where their APIs
    are (a fake or a gateway in tests), tokens that replace the stored ones,
    the OAuth clients of `flask connect`, and how uploads are chunked."""

    youtube_api_url: str = "https://www.googleapis.com"  # YOUTUBE_API_URL
    tiktok_api_url: str = "https://open.tiktokapis.com"  # TIKTOK_API_URL
    # YOUTUBE_CREDENTIALS: an authorized-user JSON (a file, or the JSON itself), used
    # instead of the token `flask connect youtube` stored
    youtube_credentials: str | None = None
    tiktok_access_token: str | None = None  # TIKTOK_ACCESS_TOKEN: used instead of the stored one
    youtube_client_id: str | None = None  # YOUTUBE_CLIENT_ID: the Google OAuth "Desktop app" client
    youtube_client_secret: str | None = None  # YOUTUBE_CLIENT_SECRET
    tiktok_client_key: str | None = None  # TIKTOK_CLIENT_KEY: the TikTok app
    tiktok_client_secret: str | None = None  # TIKTOK_CLIENT_SECRET
    # SSL_CERT_FILE: a CA bundle to trust (as OpenSSL and httpx read it), for a gateway or a fake
    ssl_cert_file: Path | None = field(default=None, metadata={"env": "SSL_CERT_FILE"})
    publish_chunk_mb: float = 8.0  # PUBLISH_CHUNK_MB: upload chunk (YouTube: a 256 KiB multiple)
    publish_retries: int = 8  # PUBLISH_RETRIES: tries per chunk after a 5xx or a dropped link
    publish_backoff: float = 1.0  # PUBLISH_BACKOFF: the first wait (seconds), doubled each try
    publish_timeout: float = 60.0  # PUBLISH_TIMEOUT (seconds per request)


@dataclass(frozen=True)
class Settings:
    script: ScriptSettings = field(default_factory=ScriptSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    visuals: VisualsSettings = field(default_factory=VisualsSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    tasks: TasksSettings = field(default_factory=TasksSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)

    @classmethod
    def build(cls, **flat) -> Settings:
        """Defaults, changed by flat field names (``workers=2``, ``source="pexels"``)
        or whole groups (``render=RenderSettings(...)``)."""
        return cls().with_(**flat)

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Settings:
        """Read every field from its environment variable, converted to the
        field's type, then apply ``overrides`` (as ``build`` takes them). A bad
        value raises ConfigError naming the variable."""
        env = os.environ if environ is None else environ
        groups, changes = _split(overrides)
        for name, kind in GROUPS.items():
            if name not in groups:
                groups[name] = kind(**{**_read_env(kind, env), **changes.pop(name, {})})
        return cls(**groups).with_(**{k: v for c in changes.values() for k, v in c.items()})

    def with_(self, **changes) -> Settings:
        """A copy with ``changes``, by flat field name or whole group."""
        groups, values = _split(changes)
        for name, kind_values in values.items():
            groups[name] = replace(groups.get(name, getattr(self, name)), **kind_values)
        return replace(self, **groups)

    @classmethod
    def variables(cls) -> list[tuple[str, str, str, object]]:
        """(variable, group, field, default) of every setting, group by group."""
        return [
            (variable(kind, f), group, f.name, f.default if f.default is not MISSING else None)
            for group, kind in GROUPS.items()
            for f in fields(kind)
        ]


GROUPS: dict[str, type[_Group]] = {f.name: f.default_factory for f in fields(Settings)}
_GROUP_OF = {f.name: group for group, kind in GROUPS.items() for f in fields(kind)}
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def variable(kind: type[_Group], f) -> str:
    """The environment variable of field ``f`` of a group."""
    return f.metadata.get("env") or kind.PREFIX + f.name.upper()


def _split(flat: dict) -> tuple[dict[str, _Group], dict[str, dict]]:
    """Flat changes as (whole groups by name, {group: {field: value}})."""
    groups, values = {}, {}
    for name, value in flat.items():
        if name in GROUPS:
            groups[name] = value
        elif name in _GROUP_OF:
            values.setdefault(_GROUP_OF[name], {})[name] = value
        else:
            raise TypeError(f"Settings has no field {name!r}")
    return groups, values


def _read_env(kind: type[_Group], env) -> dict:
    hints = typing.get_type_hints(kind)
    values = {}
    for f in fields(kind):
        name = variable(kind, f)
        raw = env.get(name)
        if raw is None:
            continue
        parse = f.metadata.get("parse") or (lambda text, hint=hints[f.name]: _convert(hint, text))
        try:
            values[f.name] = parse(raw.strip())
        except ValueError as exc:
            raise ConfigError(name, f"{raw!r} is not {exc}") from None
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
