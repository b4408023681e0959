"""Trying things out before a create: the voices, a voice's clip, a caption preview."""

from __future__ import annotations

from dataclasses import asdict, replace

from flask import Blueprint, abort, current_app, jsonify, request, send_file

from reelsmith.captions.presets import parse_style
from reelsmith.core.exceptions import BadRequest, UnknownVoice, VoiceError
from reelsmith.core.settings import ASPECTS
from reelsmith.request import LANGUAGE, CreateRequest, check_caption_style
from reelsmith.voice import synthesizer
from reelsmith.web.common import request_fields, services, settings
from reelsmith.web.uploads import preview_font

bp = Blueprint("studio", __name__)

PREVIEW_SHORT_SIDE = 540  # previews are drawn at half the render's size: same layout, faster
PREVIEW_SENTENCE = "Every word lights up as the voice speaks it"
MAX_PREVIEW_SENTENCE = 200


@bp.get("/api/voices")
def voices():
    """Every voice that can speak here (id, engine, language, name, gender,
    offline, word timings), the engines, and language names for pickers."""
    config = settings()
    return jsonify(
        voices=[asdict(v) for v in synthesizer.list_voices(config)],
        engines=synthesizer.engine_table(config),
        languages=synthesizer.language_names(),
    )


@bp.get("/api/voices/<path:voice_id>/preview")
def voice_preview(voice_id):
    """A short clip of the voice saying a fixed sentence (WAV, cached)."""
    config = settings()
    language = request.args.get("language")
    if language is not None and not LANGUAGE.match(language):
        raise BadRequest("language must be a code like 'en' or 'pt-BR'", "language")
    try:
        voice_id = synthesizer.check_voice(voice_id, language or "en", config)
    except UnknownVoice as exc:
        abort(404, description=exc.message)
    try:
        path = synthesizer.preview(voice_id, config, language=language)
    except VoiceError as exc:
        return jsonify(error=f"{exc.stage}: {exc.message}"), 502
    return send_file(path, mimetype="audio/wav", conditional=True)


@bp.post("/api/preview")
def preview():
    """One still frame in the caption style, drawn by the render's own code, as PNG.

    The fields come as JSON, or as a form; a multipart form may carry the
    ``font`` file a create request would (checked the same way), which is
    used for this frame only and removed afterwards."""
    data = request_fields()
    config = settings()
    topic = data.get("topic") or "Your video's title"
    if not isinstance(topic, str) or len(topic) > config.server.max_topic_chars:
        raise BadRequest(
            f"topic must be a string of at most {config.server.max_topic_chars} characters", "topic"
        )
    sentence = data.get("sentence") or PREVIEW_SENTENCE
    if not isinstance(sentence, str) or len(sentence) > MAX_PREVIEW_SENTENCE:
        raise BadRequest(
            f"sentence must be a string of at most {MAX_PREVIEW_SENTENCE} characters", "sentence"
        )
    aspect = data.get("aspect", CreateRequest.model_fields["aspect"].default)
    if not isinstance(aspect, str) or aspect not in ASPECTS:
        raise BadRequest(f"aspect must be one of {', '.join(ASPECTS)}", "aspect")
    style = parse_style(check_caption_style(data.get("caption_style")))
    aw, ah = ASPECTS[aspect]
    unit = PREVIEW_SHORT_SIDE / min(aw, ah)
    size = (int(aw * unit) // 2 * 2, int(ah * unit) // 2 * 2)
    with preview_font() as font:
        if font is not None:  # as the render does: the upload replaces the style's font
            style = replace(style, font=str(font))
        png = services().render_preview(
            topic.strip() or "Preview", sentence.strip() or PREVIEW_SENTENCE, style, size
        )
    return current_app.response_class(png, mimetype="image/png")
