"""Every error under /api/ is JSON: ``{"error": ..., "field": ...}``."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from reelsmith.core.exceptions import BadRequest, QueueFull

log = logging.getLogger("reelsmith")

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    body = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return jsonify(body), 400


@bp.app_errorhandler(QueueFull)
def queue_full(exc: QueueFull):
    response = jsonify(error=f"busy: {exc}; try again shortly")
    response.headers["Retry-After"] = "10"
    return response, 503


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if not request.path.startswith("/api/"):
        return exc
    return jsonify(error=exc.description or exc.name), exc.code


@bp.app_errorhandler(Exception)
def unexpected(exc: Exception):
    log.exception("unhandled error on %s", request.path)
    return jsonify(error=f"internal error: {type(exc).__name__}"), 500
