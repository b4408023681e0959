"""The music library: its tracks (``GET /api/music``) and a track to listen
to (``GET /api/music/<id>/preview``), and their part of the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, send_file, url_for

from reelsmith import music
from reelsmith.web.openapi_schemas import error, file_body, json_body, op, string

bp = Blueprint("music", __name__)

TRACK_ID = r"^[a-z0-9_-]{1,100}$"
TRACK = {
    "type": "object",
    "required": ["id", "mood", "tempo", "preview_url", "licence"],
    "properties": {
        "id": {"type": "string", "description": "The value of ``music`` that asks for it."},
        "mood": {"type": "string", "enum": list(music.MOODS)},
        "tempo": {"type": ["integer", "null"], "description": "Beats per minute."},
        "key": {"type": ["string", "null"]},
        "preview_url": {"type": "string"},
        "licence": {"type": "string"},
    },
}


@bp.get("/api/music")
def tracks():
    """Every bundled track (id, mood, tempo, key, preview_url, licence) and the moods."""
    return jsonify(
        tracks=[
            {**t.to_dict(), "preview_url": url_for("music.preview", track_id=t.id)}
            for t in music.tracks()
        ],
        moods=list(music.MOODS),
        licence=music.licence(),
    )


@bp.get("/api/music/<track_id>/preview")
def preview(track_id):
    """The track itself (Ogg Opus, about 30 s), with ranges for seeking."""
    found = music.track(track_id)
    if found is None:
        abort(404, description=f"no track {track_id[:100]!r} (GET /api/music lists them)")
    return send_file(found.path, mimetype="audio/ogg", conditional=True, max_age=86400)


def music_paths() -> dict:
    """The OpenAPI paths of this blueprint."""
    return {
        "/api/music": {
            "get": op(
                "The bundled music: each track's id (a value of music on create), mood, "
                "tempo, key, preview and licence; the moods.",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["tracks", "moods", "licence"],
                            "properties": {
                                "tracks": {"type": "array", "items": TRACK},
                                "moods": {"type": "array", "items": {"type": "string"}},
                                "licence": {"type": "string"},
                            },
                        }
                    )
                },
            )
        },
        "/api/music/{track_id}/preview": {
            "get": op(
                "A bundled track to listen to (Ogg Opus).",
                {"200": file_body("audio/ogg", "The track."), "404": error("No such track.")},
                parameters=[
                    {
                        "name": "track_id",
                        "in": "path",
                        "required": True,
                        "schema": {**string(100), "pattern": TRACK_ID},
                    }
                ],
            )
        },
    }
