"""Shared fixtures. The autouse guard makes any non-loopback connection fail."""

import ipaddress
import os
import socket

import pytest

pytest_plugins = ["tests.helpers.browser"]  # the browser fixtures: server, page, shots

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class InternetAccessBlocked(OSError):
    """A test tried to reach a host that is not on this machine."""


def _check(address):
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise InternetAccessBlocked(f"test tried to reach {address!r}: tests stay on 127.0.0.1")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if not _is_loopback(host):
        raise InternetAccessBlocked(f"test tried to resolve {host!r}: tests stay on 127.0.0.1")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Fail loudly, at once, if code under test tries to leave the machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    yield


@pytest.fixture
def environ():
    """os.environ as it was, again after the test (load_dotenv writes to it)."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def fresh_edge_list():
    """Edge's voice list is remembered per process (and a failure for 5
    minutes): a voice test starts without it (``usefixtures`` in its module)."""
    from reelsmith.voice.engines.edge import reset_edge_voice_list

    reset_edge_voice_list()
    yield
    reset_edge_voice_list()
