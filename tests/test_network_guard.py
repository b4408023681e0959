import socket

import pytest

from tests.conftest import InternetAccessBlocked


def test_public_address_is_refused():
    with pytest.raises(InternetAccessBlocked):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_name_lookup_is_refused():
    with pytest.raises(InternetAccessBlocked):
        socket.getaddrinfo("translate.google.com", 443)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
