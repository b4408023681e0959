"""What keeps a local server safe from the web pages its user visits.

* Host allow-list: a DNS-rebinding page reaches us under its own name, so any
  Host that is not loopback, the bound address or in ALLOWED_HOSTS gets 400.
* Origin check: a state-changing request (anything but GET/HEAD/OPTIONS) that a
  browser sends from another origin gets 403. Clients that send no Origin
  (curl, scripts) keep working.
* API token: with API_TOKEN set, every /api/* call must carry it (401).
* Security headers on every response: a Content-Security-Policy with no inline
  script, nosniff, no referrer, no framing.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, request

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOKEN_COOKIE = "reelsmith_token"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# -- Host and Origin ----------------------------------------------------------


def host_name(host_header: str) -> str:
    """'[::1]:5000' -> '::1', 'Example.com:80' -> 'example.com'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(app: Flask) -> set[str]:
    hosts = {*LOOPBACK_HOSTS, *(h.lower() for h in app.config["SETTINGS"].server.allowed_hosts)}
    bound = app.config.get("BIND_HOST")
    if bound:
        hosts.add(host_name(bound) if bound.startswith("[") else bound.lower())
    return hosts


def _refuse(status: int, message: str):
    return jsonify(error=message), status


def check_host():
    """before_request: only answer under a name we were told to answer to."""
    hosts = allowed_hosts(current_app)
    name = host_name(request.host)
    if name in hosts or "*" in hosts:
        return None
    return _refuse(400, f"Host {name!r} is not allowed; add it to ALLOWED_HOSTS to serve it")


def check_origin():
    """before_request: a browser may change state only from this page's own origin
    (or a host in ALLOWED_HOSTS)."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        # No Origin: an API client, unless the browser says the request is cross-site.
        if request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none"):
            return None
        return _refuse(403, "cross-site requests may not change anything here")
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc:
        if parts.netloc.lower() == request.host.lower():
            return None  # same origin
        if host_name(parts.netloc) in {
            h.lower() for h in current_app.config["SETTINGS"].server.allowed_hosts
        }:
            return None
    return _refuse(403, f"requests from origin {origin!r} may not change anything here")


def require_token():
    """before_request: with API_TOKEN set, every /api/* call must carry it: as a
    Bearer header, or as the cookie the page sets (so <video> requests carry it)."""
    token = current_app.config["SETTINGS"].server.api_token
    if not token or not request.path.startswith("/api/"):
        return None
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = jsonify(error="an API token is required: send 'Authorization: Bearer <token>'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, 401
    return None


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def install(app: Flask) -> None:
    """Register the checks before any other request hook, and the headers."""
    app.before_request(check_host)
    app.before_request(check_origin)
    app.before_request(require_token)
    app.after_request(add_headers)
