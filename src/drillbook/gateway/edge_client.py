"""A lean keep-alive HTTP/1.1 client for the edge's forwarding path.

httpx costs the edge most of its CPU; this pool of raw asyncio connections with httptools
parsing (already there for uvicorn) lets one core switch thousands of requests a second, so the
edge is not what limits a canary drill. Plain http only: upstreams are local drill services.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

Header = tuple[bytes, bytes]


class UpstreamError(Exception):
    """The upstream could not be reached, closed the connection, or did not answer in time."""


@dataclass
class UpstreamResponse:
    status: int
    headers: list[Header]
    body: bytes


@dataclass
class _Reader:
    """httptools callbacks collecting one response."""

    head_only: bool
    headers: list[Header] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    done: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.head_only:
            self.done = True

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        self.done = True


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class UpstreamPool:
    def __init__(self, url: str, max_idle: int = 128, connect_timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream url {url!r} must be http://host:port")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()
        self._idle: deque[Conn] = deque()
        self._max_idle = max_idle
        self._connect_timeout = connect_timeout

    async def _connect(self) -> tuple[Conn, bool]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return (reader, writer), True
            writer.close()
        try:
            conn = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self._connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"connect to {self.host}:{self.port} failed: {exc!r}") from exc
        return conn, False

    def _head(self, method: str, target: str, headers: Sequence[Header], body: bytes) -> bytes:
        lines = [f"{method} {target} HTTP/1.1".encode(), b"host: " + self._host_header]
        lines += [name + b": " + value for name, value in headers]
        lines.append(b"content-length: " + str(len(body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def request(
        self, method: str, target: str, headers: Sequence[Header], body: bytes, timeout: float
    ) -> UpstreamResponse:
        payload = self._head(method, target, headers, body) + body
        for attempt in range(2):
            (reader, writer), reused = await self._connect()
            try:
                writer.write(payload)
                response, keep = await asyncio.wait_for(
                    self._read(reader, method == "HEAD"), timeout
                )
            except (OSError, asyncio.IncompleteReadError, httptools.HttpParserError) as exc:
                writer.close()
                if reused and attempt == 0:
                    continue  # an idle keep-alive connection the upstream had closed: retry once
                raise UpstreamError(f"{type(exc).__name__}: {exc}") from exc
            except TimeoutError as exc:
                writer.close()
                raise UpstreamError(f"no answer within {timeout:g}s") from exc
            if keep and len(self._idle) < self._max_idle:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return response
        raise UpstreamError("unreachable")  # pragma: no cover - the loop returns or raises

    @staticmethod
    async def _read(reader: asyncio.StreamReader, head_only: bool) -> tuple[UpstreamResponse, bool]:
        sink = _Reader(head_only)
        parser = httptools.HttpResponseParser(sink)
        while not sink.done:
            data = await reader.read(65536)
            if not data:
                raise asyncio.IncompleteReadError(b"", None)
            parser.feed_data(data)
        status = parser.get_status_code()
        keep = parser.should_keep_alive() and not head_only
        return UpstreamResponse(status, sink.headers, b"".join(sink.body)), keep

    def close(self) -> None:
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()
