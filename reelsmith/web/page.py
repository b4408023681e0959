"""The page: a form whose limits and choices come from ``CreateRequest``."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from reelsmith.captions.presets import PRESETS
from reelsmith.captions.style import FONTS, MODES, POSITIONS, STYLE_RANGES
from reelsmith.request import CreateRequest
from reelsmith.visuals.scenes import MAX_SCENE_CHARS, TEXT_LIMITS
from reelsmith.web.common import settings
from reelsmith.web.security import TOKEN_COOKIE

bp = Blueprint("page", __name__)


@bp.get("/")
def index():
    config = settings()
    fields = CreateRequest.field_schemas(config)
    return render_template(
        "index.html",
        offline_writer=not config.script.openai_api_key,
        token_required=bool(config.server.api_token),
        token_cookie=TOKEN_COOKIE,
        fields=fields,
        voices=[fields["voice"]["default"], *fields["voice"]["examples"]],
        uploads=CreateRequest.upload_fields(),
        caption_presets=list(PRESETS),
        caption_modes=MODES,
        caption_positions=POSITIONS,
        caption_fonts=list(FONTS),
        caption_size_range=STYLE_RANGES["size"],
        caption_presets_json=json.dumps({n: s.to_dict() for n, s in PRESETS.items()}),
        scene_limits={"text": MAX_SCENE_CHARS, **TEXT_LIMITS},
    )
