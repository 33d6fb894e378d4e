"""No test may touch the network: tests/conftest.py installs this guard for the whole run.

Connections to this machine (127.0.0.0/8, ::1, ``localhost``, Unix sockets) are allowed, as
the MNIST download tests serve their files from an ``http.server`` on 127.0.0.1. Any other
connection, and any name lookup of another host, raises :class:`NetworkAccessError` and is
recorded; an autouse fixture in conftest then fails the test naming the address, even if the
code under test caught the error (the MNIST loader notes one mirror's failure and tries the
next, for instance).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

#: The addresses tests tried to reach, in order; conftest empties it after each test.
ATTEMPTS: list[str] = []

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkAccessError(OSError):
    """A test tried to reach another machine."""


def _is_local(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> NetworkAccessError:
    ATTEMPTS.append(what)
    return NetworkAccessError(
        f"tests may not use the network: {what} refused by tests/network_guard.py "
        "(only 127.0.0.1, ::1 and localhost are allowed)"
    )


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_local(host):
            raise _refuse(f"connect to {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_local(host):
        raise _refuse(f"name lookup of {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    """Refuse (and record) every connection and name lookup other than this machine's."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
