"""One create request: every field, limit and enum, in one model.

``CreateRequest`` is what a user asks for. Everything else reads its fields:
``parse`` checks a JSON body or a form (a bad value is ``BadRequest`` naming
the field), ``field_schemas`` and ``upload_schemas`` describe it for the
OpenAPI document, the MCP tool, the CLI's options and the page. Enums are
read from the registries (aspects, voice engines, visual sources,
transitions, caption presets) when asked, so a registered one shows up
everywhere.

Checks that need the settings (text limits, the voice, the visual source's
key, the webhook's address) run when ``parse`` is given them; building a
request in code checks types and bounds only.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reelsmith.captions.presets import PRESETS, parse_style
from reelsmith.core.exceptions import BadRequest, CaptionStyleError, UnknownVisuals, UnknownVoice
from reelsmith.core.netguard import UnsafeURL, check_webhook_url
from reelsmith.core.settings import ASPECTS, Settings
from reelsmith.music import MOODS, check_music, is_upload, music_choices
from reelsmith.publish.request import MAX_ON_CREATE, check_publish, publish_schema
from reelsmith.render.transitions import MAX_TRANSITION_SECONDS, TRANSITIONS
from reelsmith.request_fields import (
    Rule,
    Upload,
    _base,
    _marker,
    _number,
    _origin,
    _schema,
    _settings,
    _text,
    _whole,
)
from reelsmith.visuals import SOURCES, check_visuals
from reelsmith.visuals.scenes import MAX_SCENES, SCENE_SCHEMA, check_scenes
from reelsmith.voice.catalogue import check_voice
from reelsmith.voice.engines import ENGINES
from reelsmith.voice.recorded import (
    NARRATION_MAX_MB,
    NARRATION_MAX_SECONDS,
    NARRATION_SUFFIXES,
)
from reelsmith.voice.synthesizer import MAX_SPEED, MIN_SPEED

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
AUDIO = frozenset({".mp3", ".wav", ".m4a", ".ogg", ".flac"})
AUDIO_END = tuple(AUDIO)  # (str.endswith takes a tuple)
PICTURES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv"})
FONT_FILES = frozenset({".ttf", ".otf"})
TASK_ID_PATTERN = r"^[0-9a-f]{32}$"


class CreateRequest(BaseModel):
    """What the user asked for. Field order is the stored JSON's order."""

    model_config = ConfigDict(extra="forbid")

    topic: Annotated[
        str,
        Field(
            description="What the video is about (or give a script).",
            json_schema_extra={"pattern": r"\S"},
        ),
        Rule(setting="max_topic_chars"),
    ] = ""
    script: Annotated[
        str | None,
        Field(
            description="Your own text, one caption per sentence; skips the script writer.",
            json_schema_extra={"pattern": r"\S"},
        ),
        Rule(setting="max_script_chars"),
    ] = None
    voice: Annotated[
        str,
        Field(
            max_length=100,
            description="auto, an engine ({suggestions}) or a voice id from /api/voices, "
            "e.g. piper:en_US-joe-medium.",
        ),
        Rule(suggestions=lambda: ENGINES),
    ] = "auto"
    language: Annotated[
        str,
        Field(max_length=12, pattern=LANGUAGE.pattern, description="The script's language."),
        Rule(means="a code like 'en' or 'pt-BR'"),
    ] = "en"
    length: Annotated[
        int, Field(ge=10, le=600, description="Target length in seconds."), Rule(unit="seconds")
    ] = 30
    tone: Annotated[str, Field(max_length=40, description="How the script sounds.")] = "informative"
    aspect: Annotated[
        str,
        Field(max_length=8, description="The video's shape, width:height."),
        Rule(choices=lambda: ASPECTS),
    ] = "9:16"
    fresh: Annotated[bool, Field(description="Bypass the script cache.")] = False
    webhook_url: Annotated[
        str | None,
        Field(
            max_length=2000,
            description="Gets the task's JSON (POST) when it ends. Public addresses only "
            "unless ALLOW_PRIVATE_URLS is set.",
            json_schema_extra={"format": "uri", "pattern": "^https?://"},
        ),
    ] = None
    music: Annotated[
        str | None,
        Field(
            max_length=100,
            description="auto (a mood from the tone and the topic), none, a mood ("
            + ", ".join(MOODS)
            + ") or a track id from GET /api/music; or one audio file (multipart)",
        ),
        Rule(choices=music_choices),
        Upload(AUDIO, text=True),
    ] = "auto"
    backgrounds: Annotated[
        list[str],
        Field(default_factory=list, description="Images or clips, one per sentence in turn"),
        Upload(PICTURES, most=10),
    ]
    font: Annotated[
        str | None,
        Field(description="A caption font of your own (it replaces the style's font)"),
        Upload(FONT_FILES),
    ] = None
    speed: Annotated[float, Field(ge=MIN_SPEED, le=MAX_SPEED, description="Narration speed.")] = 1.0
    caption_style: Annotated[
        str | dict[str, Any] | None,
        Field(
            description="A preset ({choices}) or a style object (in a form or on the "
            'command line: the object as JSON text, e.g. {{"preset": "pop", '
            '"highlight_color": "#FF3B30"}}).'
        ),
        Rule(choices=lambda: PRESETS),
    ] = None
    visuals: Annotated[
        str,
        Field(
            max_length=20,
            description="Where the pictures come from: {choices} (a source needs its key).",
        ),
        Rule(choices=lambda: ["auto", *SOURCES]),
    ] = "auto"
    transition: Annotated[
        str,
        Field(max_length=20, description="Between sentences."),
        Rule(choices=lambda: TRANSITIONS),
    ] = "cut"
    transition_seconds: Annotated[
        float,
        Field(gt=0, le=MAX_TRANSITION_SECONDS, description="How long each transition lasts."),
    ] = 0.5

    scenes: Annotated[
        list[dict] | None,
        Field(
            description="Your own scenes, one sentence each, instead of a topic or script: "
            "[{{text, visual?: {{source?, query?, prompt?, url?, upload?}}, voice?, seconds?}}]; "
            "upload names a backgrounds file sent in the same multipart create (in a form: "
            "the list as JSON text).",
            json_schema_extra={"items": SCENE_SCHEMA, "maxItems": MAX_SCENES},
        ),
    ] = None
    review: Annotated[
        bool,
        Field(
            description="Stop after the storyboard (status review) until "
            "POST /api/task/<id>/approve."
        ),
    ] = False

    revision_of: Annotated[
        str | None,
        Field(
            max_length=32,
            pattern=TASK_ID_PATTERN,
            description="Set by POST /api/task/<id>/revise: the finished task this one revises.",
        ),
        Rule(means="a task id (32 hex digits)"),
    ] = None
    lineage: Annotated[
        str | None,
        Field(
            max_length=32,
            pattern=TASK_ID_PATTERN,
            description="Set by POST /api/task/<id>/revise: the first task of the revisions, "
            "whose rendered scenes the revisions reuse.",
        ),
        Rule(means="a task id (32 hex digits)"),
    ] = None
    narration: Annotated[
        str | None,
        Field(
            description=f"Your own recording of the script, spoken instead of a voice "
            f"(at most {NARRATION_MAX_MB:g} MB and {NARRATION_MAX_SECONDS / 60:g} minutes; "
            "send its words as script)"
        ),
        Upload(NARRATION_SUFFIXES),
    ] = None

    publish: Annotated[
        list[dict] | None,
        Field(
            description="Publish once the video is done (still an explicit request): "
            "[{{platform, made_for_kids?, privacy?, title?, ...}}], each as "
            "POST /api/task/<id>/publish takes it (in a form: the list as JSON text).",
            json_schema_extra={"items": publish_schema(), "maxItems": MAX_ON_CREATE},
        ),
    ] = None

    # -- reading requests -------------------------------------------------

    @classmethod
    def parse(cls, data: Any, settings: Settings, files: Any = ()) -> CreateRequest:
        """A client's request (a JSON object, or a form as a dict of strings),
        checked; an unknown field, a file field sent as text, or a bad value is
        ``BadRequest`` naming the field. ``files`` names the upload fields that
        came with files (a narration changes what else is needed)."""
        if not isinstance(data, dict):
            raise BadRequest("the body is not a JSON object")
        uploads = cls.upload_fields()
        for name in data:
            if name in uploads and not uploads[name].text:
                raise BadRequest(f"{name} takes files: send them in a multipart upload", name)
            if name not in cls.model_fields:
                raise BadRequest(
                    f"{name!r} is not a field (the fields are {', '.join(cls.client_fields())})",
                    str(name),
                )
        try:
            context = {"settings": settings, "files": set(files)}
            return cls.model_validate(data, context=context)
        except ValidationError as exc:  # a check pydantic made itself
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            raise BadRequest(f"{field}: {error['msg']}", field) from None

    def to_dict(self) -> dict:
        """The request as the task stores it (and shows it) as JSON."""
        return self.model_dump()

    @classmethod
    def from_stored(cls, data: dict) -> CreateRequest:
        """A stored request, as it was checked when it came in (unknown keys skipped)."""
        return cls.model_construct(**{k: v for k, v in data.items() if k in cls.model_fields})

    @property
    def uploads(self) -> list[str]:
        """The generated names of every file uploaded with this request."""
        music = self.music if is_upload(self.music) else None  # else auto, none, a mood, a track
        return [name for name in (music, self.font, self.narration, *self.backgrounds) if name]

    # -- describing the fields --------------------------------------------

    @classmethod
    def client_fields(cls) -> list[str]:
        """The fields a client sends as values (the uploads come as files; one
        that also takes text, ``music``, is both)."""
        uploads = cls.upload_fields()
        return [name for name in cls.model_fields if name not in uploads or uploads[name].text]

    @classmethod
    def upload_fields(cls) -> dict[str, Upload]:
        """The fields filled from uploaded files, with what each takes."""
        return {
            name: marker
            for name, field in cls.model_fields.items()
            if (marker := _marker(field, Upload)) is not None
        }

    @classmethod
    def field_schemas(cls, settings: Settings | None = None) -> dict[str, dict]:
        """A JSON schema per client field: type, default, bounds, enum (read
        now from its registry) and description; text limits from ``settings``."""
        return {name: _schema(cls.model_fields[name], settings) for name in cls.client_fields()}

    @classmethod
    def upload_schemas(cls) -> dict[str, dict]:
        """A JSON schema per upload field, as multipart files."""
        schemas = {}
        for name, upload in cls.upload_fields().items():
            field = cls.model_fields[name]
            file = {"type": "string", "contentMediaType": "application/octet-stream"}
            text = f"{field.description}: {', '.join(sorted(upload.suffixes))}"
            if _origin(field.annotation) is list:
                schemas[name] = {"type": "array", "maxItems": upload.most, "items": file}
            elif upload.text:  # a file, or one of its values as text
                value = {"type": "string", "enum": list(_marker(field, Rule).choices())}
                schemas[name] = {"anyOf": [file, value]}
            else:
                schemas[name] = dict(file)
            schemas[name]["description"] = text
        return schemas

    # -- checks -----------------------------------------------------------

    @field_validator("*", mode="before")
    @classmethod
    def _check_value(cls, value: Any, info: ValidationInfo) -> Any:
        """Types and bounds, read from the field, with messages for people."""
        name = info.field_name
        field = cls.model_fields[name]
        if _marker(field, Upload) is not None:
            return value  # generated names, set by the server
        kind = _base(field.annotation)
        if kind is str:
            return _text(name, value, field, _settings(info))
        if kind is float:
            return _number(name, value, field)
        if kind is int:
            return _whole(name, value, field)
        if kind is bool:
            return (
                value.lower() in ("1", "true", "on", "yes")
                if isinstance(value, str)
                else bool(value)
            )
        return value

    @field_validator("music", mode="before")
    @classmethod
    def _check_music(cls, value: Any, info: ValidationInfo) -> Any:
        """A client's value (``parse``); in code, also an uploaded file's name."""
        if _settings(info) is None and isinstance(value, str) and value.lower().endswith(AUDIO_END):
            return value
        return check_music(value)

    @field_validator("caption_style", mode="before")
    @classmethod
    def _check_style(cls, value: Any) -> Any:
        return check_caption_style(value)

    @field_validator("publish", mode="before")
    @classmethod
    def _check_publish(cls, value: Any) -> Any:
        return check_publish(value)

    @field_validator("scenes", mode="before")
    @classmethod
    def _check_scenes(cls, value: Any, info: ValidationInfo) -> Any:
        return check_scenes(value, _settings(info))

    @model_validator(mode="after")
    def _check_request(self, info: ValidationInfo) -> CreateRequest:
        """A topic or a script; and, given the settings, what only they can say."""
        if self.scenes and self.script:
            raise BadRequest("give scenes or a script, not both", "scenes")
        narrated = bool(self.narration) or "narration" in (info.context or {}).get("files", ())
        if narrated and self.scenes:
            raise BadRequest("give a narration or scenes, not both", "narration")
        if not self.topic and not self.script and not self.scenes and not narrated:
            raise BadRequest("a topic is required (or your own script, or scenes)", "topic")
        if not self.topic and (self.script or self.scenes):
            text = self.script or " ".join(scene["text"] for scene in self.scenes)
            self.topic = " ".join(text.split()[:8])
        settings = _settings(info)
        if settings is None:
            return self
        if narrated and not self.script and not settings.voice.stt_configured:
            raise BadRequest(
                "a script is needed with a narration: send the words it says as script "
                "(or set STT_BASE_URL to a transcription server)",
                "script",
            )
        try:
            self.voice = check_voice(self.voice, self.language, settings)
        except UnknownVoice as exc:
            raise BadRequest(exc.message, "voice") from None
        for i, scene in enumerate(self.scenes or ()):
            if scene["voice"]:
                try:
                    scene["voice"] = check_voice(scene["voice"], self.language, settings)
                except UnknownVoice as exc:
                    raise BadRequest(
                        f"scenes[{i}].voice: {exc.message}", f"scenes[{i}].voice"
                    ) from None
        if self.webhook_url:
            try:
                check_webhook_url(self.webhook_url, settings.tasks.private_urls)
            except UnsafeURL as exc:
                raise BadRequest(f"webhook_url: {exc}", "webhook_url") from None
        if self.publish and settings.tasks.redis_url:
            raise BadRequest(
                "publish on create needs the in-process queue (REDIS_URL is set): publish "
                "the finished video with POST /api/task/<id>/publish",
                "publish",
            )
        try:
            check_visuals(self.visuals, settings)
        except UnknownVisuals as exc:
            raise BadRequest(exc.message, exc.field) from None
        return self


def check_caption_style(value: Any) -> str | dict | None:
    """A ``caption_style``: a preset name, a style object, or (from a form or
    the command line) that object as JSON text. Checked; returned as stored."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("caption_style is not valid JSON", "caption_style") from None
    try:
        parse_style(value)
    except CaptionStyleError as exc:
        raise BadRequest(exc.message, exc.field) from None
    return value or None
