"""Serving the app with uvicorn, hardened against hostile clients at the HTTP protocol level.

uvicorn has no limit on how long a request line and headers may take (a client sending one header
byte every few seconds holds a connection for ever), and answers unparseable requests with a plain-text
400. ``GuardedHttpProtocol`` adds a header deadline (408) and answers both in the service's one error
shape ``{code, message, detail}``. Body timeouts and limits are the request guard's (service/guard.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.errors import ErrorCode
from service.memory import limit_malloc_arenas, start_periodic_trim
from service.settings import Settings

log = logging.getLogger(__name__)

_REASONS = {400: b"Bad Request", 408: b"Request Timeout"}


def error_bytes(code: ErrorCode, message: str) -> bytes:
    """A complete HTTP/1.1 error answer (the code's status) that closes the connection."""
    status = code.status
    body = json.dumps({"code": code.value, "message": message, "detail": None}).encode()
    head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body)))
    return head + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request line and headers."""

    header_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self._cancel_header_timer()
        self.transport.write(error_bytes(ErrorCode.bad_request, f"malformed HTTP request: {msg}"))
        self.transport.close()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered (pipelined bytes began the next one)
        if not self.transport.is_closing():
            self.transport.write(error_bytes(
                ErrorCode.request_timeout,
                f"request headers did not arrive within {self.header_timeout_s:g} s"))
            self.transport.close()


def protocol_for(settings: Settings) -> type[GuardedHttpProtocol]:
    return type("ConfiguredGuardedHttpProtocol", (GuardedHttpProtocol,),
                {"header_timeout_s": settings.header_timeout_s})


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process dies of the signal and
    skips its exit handlers - among them multiprocessing's, which unlink the page pool's semaphores (the
    resource tracker then printed "leaked semaphore objects" at every stop). Here it exits normally."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


def server_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration. The keep-alive timeout is long (KEEP_ALIVE_TIMEOUT_S, 75 s) on purpose:
    with uvicorn's 5 s, the same as httpx's idle expiry, the server closed idle connections at the moment
    clients reused them, and those requests failed with a reset (12 of 41,109 in the soak)."""
    return uvicorn.Config(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=10,
                          http=protocol_for(settings), timeout_keep_alive=settings.keep_alive_timeout_s)


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    limit_malloc_arenas(settings.malloc_arenas)
    start_periodic_trim()
    _Server(server_config(app, settings, host, port)).run()
