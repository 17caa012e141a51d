"""Free ports for local services."""

from __future__ import annotations

import socket

from drillbook.backends.local.ports import free_port, port_is_free, tcp_connects


def test_free_port_can_be_bound_and_is_not_handed_out_twice() -> None:
    seen = {free_port() for _ in range(20)}
    assert len(seen) == 20
    port = seen.pop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_listening_port_is_neither_free_nor_silent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free(port)
        assert tcp_connects(port)
    assert port_is_free(port)
    assert not tcp_connects(port, timeout=0.2)
