"""tests/network_guard.py, installed by conftest: other hosts are refused, this one is not."""

from __future__ import annotations

import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import network_guard
import pytest
from network_guard import NetworkAccessError


def test_a_connection_to_another_host_is_refused_and_recorded() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
        NetworkAccessError,
        match=r"tests may not use the network: connect to \('192\.0\.2\.1', 80\)",
    ):
        sock.connect(("192.0.2.1", 80))
    assert network_guard.ATTEMPTS == ["connect to ('192.0.2.1', 80)"]
    network_guard.ATTEMPTS.clear()  # this test meant it; the autouse fixture would fail it


def test_a_name_lookup_of_another_host_is_refused() -> None:
    # urllib wraps it in a URLError (an OSError) holding the guard's message.
    with pytest.raises(OSError, match=r"tests may not use the network: name lookup of "
                       r"'example\.com'"):
        urllib.request.urlopen("http://example.com/", timeout=1)
    assert network_guard.ATTEMPTS == ["name lookup of 'example.com'"]
    network_guard.ATTEMPTS.clear()


def test_an_error_swallowed_by_the_code_is_still_recorded() -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.connect_ex(("2001:db8::1", 443))
    except OSError:
        pass  # as the MNIST loader does with one mirror's failure
    assert network_guard.ATTEMPTS and "2001:db8::1" in network_guard.ATTEMPTS[0]
    network_guard.ATTEMPTS.clear()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_this_machine_is_allowed(host: str) -> None:
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://{host}:{server.server_address[1]}/"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"hello"
    finally:
        server.shutdown()
        server.server_close()
    assert network_guard.ATTEMPTS == []
