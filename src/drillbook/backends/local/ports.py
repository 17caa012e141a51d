"""Free TCP ports on 127.0.0.1 for drill services.

The kernel picks a free port (bind to port 0), we release it and hand it to the service. Two
guards against the race that opens: a port handed out by this process is never handed out
again by it for a while (so two services of one drill never collide), and callers retry the
start with a new port when the service reports the address in use.
"""

from __future__ import annotations

import socket
import threading
import time

HOST = "127.0.0.1"
_RECENT_SECONDS = 600.0
_lock = threading.Lock()
_recent: dict[int, float] = {}


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on `port`, so a server can bind it now.

    With SO_REUSEADDR, as servers bind: connections of a stopped server that linger in
    TIME_WAIT do not make its port busy, a listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port that was free a moment ago and that this process has not handed out recently."""
    now = time.monotonic()
    with _lock:
        for port, when in list(_recent.items()):
            if now - when > _RECENT_SECONDS:
                del _recent[port]
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                # No SO_REUSEADDR: a port in TIME_WAIT is not offered.
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if port not in _recent:
                _recent[port] = now
                return port
    raise OSError("no free TCP port found on 127.0.0.1 after 50 tries")


def tcp_connects(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
