"""What keeps a local server safe from the web pages its user visits.

* Host allow-list: a DNS-rebinding page reaches us under its own name, so any
  Host that is not loopback, the bound address or in ALLOWED_HOSTS gets 400.
* Origin check: a state-changing request (anything but GET/HEAD/OPTIONS) that a
  browser sends from another origin gets 403. Clients that send no Origin
  (curl, scripts) keep working.
* Security headers on every response: a Content-Security-Policy with no inline
  script, nosniff, no referrer, no framing.
* Webhook targets: a URL whose host resolves to a loopback, private,
  link-local, multicast or reserved address is refused when the task is
  created (``check_webhook_url``) and again at delivery, on the very address
  the connection uses (``GuardedBackend``), because DNS can change in between.
  WEBHOOK_ALLOW_PRIVATE lifts this.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore
from flask import Flask, current_app, jsonify, request

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSP = "; ".join([
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
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class UnsafeURL(ValueError):
    """A webhook URL we will not send to; the message says why."""


# -- Host and Origin ----------------------------------------------------------

def host_name(host_header: str) -> str:
    """'[::1]:5000' -> '::1', 'Example.com:80' -> 'example.com'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(app: Flask) -> set[str]:
    hosts = {*LOOPBACK_HOSTS, *(h.lower() for h in app.config["SETTINGS"].allowed_hosts)}
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
        if host_name(parts.netloc) in {h.lower() for h in current_app.config["SETTINGS"].allowed_hosts}:
            return None
    return _refuse(403, f"requests from origin {origin!r} may not change anything here")


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def install(app: Flask) -> None:
    """Register the checks before any other request hook, and the headers."""
    app.before_request(check_host)
    app.before_request(check_origin)
    app.after_request(add_headers)


# -- Webhook targets ----------------------------------------------------------

def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to. Tests replace this to play DNS."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def address_problem(address: str) -> str | None:
    """Why a webhook may not go to ``address``, e.g. 'a loopback address' (None: it may)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return "not a public address"
    return None


def addresses_of(host: str, port: int) -> list[str]:
    """An IP literal as it is, a name through ``resolve``; UnsafeURL if it does not resolve."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        return resolve(host, port)
    except OSError as exc:
        raise UnsafeURL(f"the host {host!r} does not resolve ({exc})") from None


def safe_addresses(host: str, port: int) -> list[str]:
    """The addresses of ``host``; UnsafeURL if it does not resolve or any of them
    is not public."""
    addresses = addresses_of(host, port)
    if not addresses:
        raise UnsafeURL(f"the host {host!r} does not resolve")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            where = (f"the address {address}" if address == host.strip("[]")
                     else f"the host {host!r} resolves to {address}, which")
            raise UnsafeURL(f"{where} is {problem}; webhooks go to public addresses only "
                            "(WEBHOOK_ALLOW_PRIVATE=1 allows others)")
    return addresses


def check_webhook_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeURL unless ``url`` is http(s) with a host we may post to."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("the URL's port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("it must be an http:// or https:// URL with a host")
    if not allow_private:
        safe_addresses(parts.hostname, port)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to the public addresses it checked itself (unless
    ``allow_private``): no window for the name to resolve elsewhere between the
    check and the connection. TLS still verifies the URL's host name."""

    def __init__(self, allow_private: bool = False):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        check = addresses_of if self.allow_private else safe_addresses
        address = check(host, port)[0]
        return super().connect_tcp(address, port, timeout, local_address, socket_options)
