"""Which URLs the server may fetch or post to (webhooks, and media URLs).

A URL whose host resolves to a loopback, private, link-local, multicast or
reserved address is refused when the task is created (``check_webhook_url``)
and again at delivery, on the very address the connection uses
(``GuardedBackend``), because DNS can change in between.
ALLOW_PRIVATE_URLS (or its older name WEBHOOK_ALLOW_PRIVATE) lifts this.
``fetch`` downloads a media URL through the same guard, within a size limit.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore
import httpx

from reelsmith.core.exceptions import UnsafeURL

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
            where = (
                f"the address {address}"
                if address == host.strip("[]")
                else f"the host {host!r} resolves to {address}, which"
            )
            raise UnsafeURL(
                f"{where} is {problem}; the server reaches public addresses only "
                "(ALLOW_PRIVATE_URLS=1, or WEBHOOK_ALLOW_PRIVATE=1, allows others)"
            )
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


# -- Media URLs -----------------------------------------------------------------


def fetch(url: str, allow_private: bool, max_bytes: int, timeout: float = 15.0) -> bytes:
    """The body of a GET of ``url`` (following up to 3 redirects, each checked),
    through ``GuardedBackend``; UnsafeURL for a refused address, OSError for a
    failed download, an error reply or a body over ``max_bytes``."""
    timeouts = dict.fromkeys(("connect", "read", "write", "pool"), timeout)
    with httpcore.ConnectionPool(network_backend=GuardedBackend(allow_private)) as pool:
        for _ in range(4):
            check_webhook_url(url, allow_private)
            with pool.stream(
                "GET",
                url,
                headers={"User-Agent": "reelsmith-media"},
                extensions={"timeout": timeouts},
            ) as response:
                headers = {k.decode().lower(): v.decode() for k, v in response.headers}
                if response.status in (301, 302, 303, 307, 308) and "location" in headers:
                    url = str(httpx.URL(url).join(headers["location"]))
                    continue
                if response.status != 200:
                    raise OSError(f"the server answered HTTP {response.status}")
                if int(headers.get("content-length") or 0) > max_bytes:
                    raise OSError(f"it is over {max_bytes // 1_000_000} MB")
                body = bytearray()
                for chunk in response.iter_stream():
                    body += chunk
                    if len(body) > max_bytes:
                        raise OSError(f"it is over {max_bytes // 1_000_000} MB")
                return bytes(body)
    raise OSError("too many redirects")
