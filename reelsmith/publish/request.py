"""PublishRequest: what one publication asks for. The API, the CLI and the MCP
tool all parse with it; its JSON schema is the OpenAPI request body."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from reelsmith.core.exceptions import BadRequest

PLATFORMS = ("youtube", "tiktok")
PRIVACY = ("private", "unlisted", "public")


class PublishRequest(BaseModel):
    """One publication of a finished video. Nothing has a default that publishes
    more widely than asked: privacy is private unless given, and YouTube needs
    an explicit made_for_kids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: Literal["youtube", "tiktok"] = Field(description="Where to publish.")
    title: str | None = Field(
        None, min_length=1, max_length=100, description="Default: the video's title."
    )
    description: str | None = Field(
        None, max_length=5000, description="Default: the video's description and hashtags."
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=30, description="Default: the video's hashtags (YouTube only)."
    )
    privacy: Literal["private", "unlisted", "public"] = Field(
        "private",
        description="YouTube's privacyStatus. TikTok direct posts: private is SELF_ONLY, "
        "unlisted MUTUAL_FOLLOW_FRIENDS, public PUBLIC_TO_EVERYONE.",
    )
    publish_at: AwareDatetime | None = Field(
        None,
        description="YouTube: when the video goes public (ISO 8601 with a time zone); it "
        "stays private until then.",
    )
    made_for_kids: bool | None = Field(
        None, description="Required for YouTube (selfDeclaredMadeForKids); no default."
    )
    force: bool = Field(False, description="Publish again to an account that has this video.")
    direct: bool = Field(
        False,
        description="TikTok: post directly (audited apps) instead of a draft in the inbox.",
    )

    @classmethod
    def parse(cls, data: dict) -> PublishRequest:
        """Validate ``data``; BadRequest names the field at fault."""
        try:
            req = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or None
            raise BadRequest(f"{field}: {first['msg']}", field) from None
        if req.platform == "youtube" and req.made_for_kids is None:
            raise BadRequest(
                "made_for_kids is required for YouTube: say whether the video is made for "
                "kids (true or false); YouTube holds uploads without the answer",
                "made_for_kids",
            )
        if req.publish_at is not None:
            if req.platform != "youtube":
                raise BadRequest("publish_at is for YouTube only", "publish_at")
            if req.publish_at <= datetime.now(UTC):
                raise BadRequest("publish_at must be in the future", "publish_at")
        if req.direct and req.platform != "tiktok":
            raise BadRequest("direct is for TikTok only", "direct")
        return req


MAX_ON_CREATE = 4  # publications one create request may ask for


def publish_schema() -> dict:
    """One item of CreateRequest's ``publish``: PublishRequest's JSON schema."""
    schema = PublishRequest.model_json_schema()
    return {k: v for k, v in schema.items() if k not in ("title", "description")}


def check_publish(value) -> list[dict] | None:
    """CreateRequest's ``publish`` (a list, or a form's JSON text): each item
    checked as POST /api/task/<id>/publish checks it; BadRequest names
    ``publish[i].<field>``."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("publish: not JSON (a list of publications)", "publish") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_ON_CREATE:
        raise BadRequest(f"publish: a list of at most {MAX_ON_CREATE} publications", "publish")
    checked = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest(f"publish[{i}]: not an object", f"publish[{i}]")
        try:
            checked.append(PublishRequest.parse(item).model_dump(mode="json"))
        except BadRequest as exc:
            field = f"publish[{i}].{exc.field}" if exc.field else f"publish[{i}]"
            raise BadRequest(f"publish[{i}].{exc.message}", field) from None
    return checked
