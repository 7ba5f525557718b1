"""The test network policy, shared by tests/service and tests/distributed (their conftests import
the fixtures from here): nothing but loopback, and names resolved by a fixed table.

``egress_guard`` (autouse in both suites) makes any in-process attempt to open a socket to a
non-loopback address, or to resolve a name through the system resolver, fail the test *before* the
call reaches the OS, so no packet ever leaves the machine. Names used in URLs are resolved by
``fake_resolver``. ``http_server`` is a real HTTP server on 127.0.0.1 with scripted routes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAKE_DNS: dict[str, list[str]] = {
    "internal.example": ["10.0.0.5"],
    "metadata.example": ["169.254.169.254"],
    "evil.example": ["127.0.0.1"],
    "mixed.example": ["93.184.216.34", "10.1.2.3"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "public.example": ["93.184.216.34"],
    "portal.test": ["127.0.0.1"],
    "hooks.test": ["127.0.0.1"],
}


def fake_resolver(host: str) -> list[str]:
    """Injected resolver: a fixed table, never the network."""
    if host not in FAKE_DNS:
        raise OSError(f"fake resolver: unknown host {host}")
    return list(FAKE_DNS[host])


def is_loopback_target(address: object) -> bool:
    """True for an AF_INET/AF_INET6 (host, port, ...) tuple whose host is a loopback literal."""
    if not isinstance(address, tuple) or not address:
        return isinstance(address, (str, bytes))  # AF_UNIX path: local by construction
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
    except ValueError:
        return False  # a name: it would need DNS, which the guard forbids as well
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass
class EgressGuard:
    violations: list[str] = field(default_factory=list)

    def refuse(self, what: str) -> OSError:
        self.violations.append(what)
        return OSError(f"egress guard: {what} is not loopback; test network policy forbids it")


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LocalHTTPServer:
    """A real threaded HTTP server on 127.0.0.1; tests register routes by path."""

    server: ThreadingHTTPServer
    routes: dict[tuple[str, str], Route]
    log: list[dict[str, Any]]
    stats: dict[str, int]

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, method: str, path: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.routes[(method, path)] = fn
            return fn
        return register


def make_handler(routes: dict[tuple[str, str], Route], log: list[dict[str, Any]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self, method: str) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            log.append({"method": method, "path": self.path, "headers": dict(self.headers),
                        "body": body, "time": time.monotonic()})
            self.request_body = body
            route = routes.get((method, path))
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route(self)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def respond(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"",
            headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


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
