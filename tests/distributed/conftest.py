"""Fixtures for egress, webhook and distributed-runner tests.

``egress_guard`` (autouse) makes any in-process attempt to open a socket to a non-loopback address,
or to resolve a name through the system resolver, fail the test *before* the call reaches the OS,
so no packet ever leaves the machine. Names used in URLs are resolved by ``fake_resolver``.
``LocalHTTPServer`` is a real HTTP server on 127.0.0.1 with scripted routes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from dist_egress import EgressGuard, LocalHTTPServer, Route, is_loopback_target, make_handler


@pytest.fixture(autouse=True)
def egress_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[EgressGuard]:
    guard = EgressGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo
    real_sock_connect = asyncio.base_events.BaseEventLoop.sock_connect

    def connect(self: socket.socket, address: Any) -> None:
        if not is_loopback_target(address):
            raise guard.refuse(f"connect to {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not is_loopback_target(address):
            raise guard.refuse(f"connect_ex to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name != "localhost":
            try:
                ipaddress.ip_address(str(name).split("%", 1)[0])
            except ValueError:
                raise guard.refuse(f"DNS lookup of {name!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    async def sock_connect(self: asyncio.AbstractEventLoop, sock: socket.socket, address: Any) -> None:
        if not is_loopback_target(address):
            raise guard.refuse(f"loop.sock_connect to {address!r}")
        await real_sock_connect(self, sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "sock_connect", sock_connect)
    yield guard
    assert not guard.violations, f"test attempted non-loopback network access: {guard.violations}"


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    routes: dict[tuple[str, str], Route] = {}
    log: list[dict[str, Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(routes, log))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LocalHTTPServer(server, routes, log, {})
    finally:
        server.shutdown()
        server.server_close()
