"""The field machinery behind ``CreateRequest``: the markers a field carries
(``Rule``, ``Upload``), the checks of text, numbers and whole numbers with
messages for people, and a field's JSON schema."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationInfo
from pydantic.fields import FieldInfo

from reelsmith.core.exceptions import BadRequest
from reelsmith.core.settings import Settings

JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}


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
    text: bool = False  # also takes a value as text (JSON, form, CLI, MCP); a file wins


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
