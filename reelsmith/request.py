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
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
from pydantic.fields import FieldInfo

from reelsmith.captions.presets import PRESETS, parse_style
from reelsmith.core.exceptions import BadRequest, CaptionStyleError, UnknownVisuals, UnknownVoice
from reelsmith.core.netguard import UnsafeURL, check_webhook_url
from reelsmith.core.settings import ASPECTS, Settings
from reelsmith.render.transitions import MAX_TRANSITION_SECONDS, TRANSITIONS
from reelsmith.visuals import SOURCES, check_visuals
from reelsmith.voice.catalogue import check_voice
from reelsmith.voice.engines import ENGINES
from reelsmith.voice.synthesizer import MAX_SPEED, MIN_SPEED

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
AUDIO = frozenset({".mp3", ".wav", ".m4a", ".ogg", ".flac"})
PICTURES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv"})
FONT_FILES = frozenset({".ttf", ".otf"})
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object"}


@dataclass(frozen=True)
class Rule:
    """What a field's type and bounds do not say. ``description`` may name
    ``{choices}`` and ``{suggestions}``, filled in when described."""

    choices: Callable[[], Iterable[str]] | None = None  # the allowed values, read when asked
    suggestions: Callable[[], Iterable[str]] | None = None  # examples, not a limit
    means: str = ""  # what a value matching the field's pattern looks like
    unit: str = ""  # of a whole number
    setting: str = ""  # the Settings attribute holding the maximum length


@dataclass(frozen=True)
class Upload:
    """A field the server fills with the generated names of uploaded files
    (multipart only): the suffixes it takes and how many files at most."""

    suffixes: frozenset[str]
    most: int = 1


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
            "unless WEBHOOK_ALLOW_PRIVATE is set.",
            json_schema_extra={"format": "uri", "pattern": "^https?://"},
        ),
    ] = None
    music: Annotated[str | None, Field(description="One audio file"), Upload(AUDIO)] = None
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

    # -- reading requests -------------------------------------------------

    @classmethod
    def parse(cls, data: Any, settings: Settings) -> CreateRequest:
        """A client's request (a JSON object, or a form as a dict of strings),
        checked; an unknown field, a file field sent as text, or a bad value is
        ``BadRequest`` naming the field."""
        if not isinstance(data, dict):
            raise BadRequest("the body is not a JSON object")
        uploads = cls.upload_fields()
        for name in data:
            if name in uploads:
                raise BadRequest(f"{name} takes files: send them in a multipart upload", name)
            if name not in cls.model_fields:
                raise BadRequest(
                    f"{name!r} is not a field (the fields are {', '.join(cls.client_fields())})",
                    str(name),
                )
        try:
            return cls.model_validate(data, context={"settings": settings})
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
        return [name for name in (self.music, self.font, *self.backgrounds) if name]

    # -- describing the fields --------------------------------------------

    @classmethod
    def client_fields(cls) -> list[str]:
        """The fields a client sends as values (the uploads come as files)."""
        return [name for name in cls.model_fields if name not in cls.upload_fields()]

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

    @field_validator("caption_style", mode="before")
    @classmethod
    def _check_style(cls, value: Any) -> Any:
        return check_caption_style(value)

    @model_validator(mode="after")
    def _check_request(self, info: ValidationInfo) -> CreateRequest:
        """A topic or a script; and, given the settings, what only they can say."""
        if not self.topic and not self.script:
            raise BadRequest("a topic is required (or your own script)", "topic")
        if not self.topic:
            self.topic = " ".join(self.script.split()[:8])
        settings = _settings(info)
        if settings is None:
            return self
        try:
            self.voice = check_voice(self.voice, self.language, settings)
        except UnknownVoice as exc:
            raise BadRequest(exc.message, "voice") from None
        if self.webhook_url:
            try:
                check_webhook_url(self.webhook_url, settings.tasks.webhook_allow_private)
            except UnsafeURL as exc:
                raise BadRequest(f"webhook_url: {exc}", "webhook_url") from None
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


def _settings(info: ValidationInfo) -> Settings | None:
    return (info.context or {}).get("settings")


def _marker(field: FieldInfo, kind: type):
    return next((m for m in field.metadata if isinstance(m, kind)), None)


def _bound(field: FieldInfo, name: str):
    """A bound pydantic keeps in the field's metadata (ge, gt, le, max_length, pattern)."""
    return next(
        (getattr(m, name) for m in field.metadata if getattr(m, name, None) is not None), None
    )


def _origin(annotation):
    return typing.get_origin(annotation) or annotation


def _members(annotation) -> list:
    """The types a field may hold, without None."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [_origin(a) for a in typing.get_args(annotation) if a is not type(None)]
    return [_origin(annotation)]


def _base(annotation):
    """The one type a field holds (None when it may hold several)."""
    members = _members(annotation)
    return members[0] if len(members) == 1 else None


def _max_length(field: FieldInfo, settings: Settings | None) -> int | None:
    rule = _marker(field, Rule) or Rule()
    if rule.setting:
        return getattr(settings.server, rule.setting) if settings is not None else None
    return _bound(field, "max_length")


def _text(name: str, value: Any, field: FieldInfo, settings: Settings | None) -> str | None:
    """Stripped text within its limit, pattern and choices; empty is the default."""
    if value is None:
        return field.default
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", name)
    value = value.strip()
    limit = _max_length(field, settings)
    if limit is not None and len(value) > limit:
        raise BadRequest(f"{name} is too long ({len(value)} characters, at most {limit})", name)
    if not value:
        return field.default
    rule = _marker(field, Rule) or Rule()
    pattern = _bound(field, "pattern")
    if pattern and not re.match(pattern, value):
        raise BadRequest(f"{name} must be {rule.means or 'like ' + pattern}", name)
    if rule.choices is not None and value not in (choices := list(rule.choices())):
        raise BadRequest(f"{name} must be one of {', '.join(choices)} (got {value!r})", name)
    return value


def _number(name: str, value: Any, field: FieldInfo) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        value = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a number", name) from None
    high, above = _bound(field, "le"), _bound(field, "gt")
    if above is not None:
        if not above < value <= high:  # (also refuses nan)
            raise BadRequest(f"{name} must be more than {above:g} and at most {high:g}", name)
    elif not _bound(field, "ge") <= value <= high:
        raise BadRequest(f"{name} must be between {_bound(field, 'ge'):g} and {high:g}", name)
    return value


def _whole(name: str, value: Any, field: FieldInfo) -> int:
    unit = (_marker(field, Rule) or Rule()).unit
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f"{name} must be a whole number of {unit}", name) from None
    low, high = _bound(field, "ge"), _bound(field, "le")
    if isinstance(value, bool) or not low <= number <= high:
        raise BadRequest(f"{name} must be between {low} and {high} {unit}", name)
    return number


def _schema(field: FieldInfo, settings: Settings | None) -> dict:
    """One field's JSON schema, from its type, bounds, markers and description."""
    rule = _marker(field, Rule) or Rule()
    choices = list(rule.choices()) if rule.choices else None
    variants = []
    for kind in _members(field.annotation):
        variant = {"type": JSON_TYPES[kind]}
        if kind is str and choices is not None:
            variant["enum"] = choices
        variants.append(variant)
    schema = variants[0] if len(variants) == 1 else {"anyOf": variants}
    for bound, key in (
        ("ge", "minimum"),
        ("gt", "exclusiveMinimum"),
        ("le", "maximum"),
        ("pattern", "pattern"),
    ):
        if _bound(field, bound) is not None:
            schema[key] = _bound(field, bound)
    if (limit := _max_length(field, settings)) is not None:
        schema["maxLength"] = limit
    schema.update(field.json_schema_extra or {})
    if field.default not in (None, "") and not field.default_factory:
        schema["default"] = field.default
    if rule.suggestions is not None:
        schema["examples"] = list(rule.suggestions())
    if field.description:
        schema["description"] = field.description.format(
            choices=", ".join(choices or ()), suggestions=", ".join(schema.get("examples", ()))
        )
    return schema
