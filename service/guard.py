"""The request guard: what every request with a body goes through before any handler reads it.

* The caller is authenticated from the ``Authorization`` header **before a byte of the body is read**:
  an unknown key costs the server no memory, whatever it sends.
* Every body limit is enforced on the stream, not on a declared Content-Length (which chunked
  requests do not have, and which may lie). JSON bodies are read here, bounded by MAX_JSON_BYTES,
  and handed on in one piece; uploads stream on (service/uploads.py counts them against their limit).
* A body that stops arriving for BODY_TIMEOUT_S is answered 408 and the connection closed.
* An early answer (401, 413, ...) sent while the client is still sending would be lost: closing a
  socket with unread data makes the kernel reset the connection, and a client that sends the whole
  body before reading (no ``Expect: 100-continue``, e.g. Python's urllib) sees only the reset. So the
  rest of the body is read and thrown away first, bounded by DRAIN_MAX_BYTES and DRAIN_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import Principal, authenticate
from service.errors import ErrorCode, ServiceError, error_response
from service.memory import release_free_memory

log = logging.getLogger(__name__)

PRINCIPAL_SCOPE_KEY = "fiscalocr.principal"
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_AUTH_PREFIX = "/v1/"
_TRIM_AFTER_BYTES = 4 * 1024 * 1024  # bodies this large leave freed heap worth giving back


@dataclass(frozen=True)
class GuardLimits:
    json_bytes: int
    upload_paths: frozenset[str]  # streamed to their handlers, which count the bytes themselves
    body_timeout_s: float
    drain_max_bytes: int
    drain_timeout_s: float


class BodyTimeoutError(ServiceError):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(ErrorCode.request_timeout, f"no request body data for {timeout_s:g} s", status=408,
                         headers={"Connection": "close"})


class _Body:
    """The request's receive channel with an idle timeout and a count of what arrived."""

    def __init__(self, receive: Receive, timeout_s: float) -> None:
        self._receive, self.timeout_s = receive, timeout_s
        self.complete = False
        self.timed_out = False
        self.received = 0

    async def receive(self) -> Message:
        if self.complete:
            return await self._receive()  # only http.disconnect can come now
        try:
            message = await asyncio.wait_for(self._receive(), self.timeout_s)
        except TimeoutError:
            self.timed_out = True
            raise BodyTimeoutError(self.timeout_s) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        else:
            self.complete = True
        return message

    async def read_all(self, limit: int) -> bytes | None:
        """The whole body, or None as soon as it passes ``limit`` bytes."""
        chunks: list[bytes] = []
        size = 0
        while not self.complete:
            message = await self.receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def drain(self, max_bytes: int, timeout_s: float) -> bool:
        """Read and discard the rest of the body; True if it all arrived within the budget."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        start = self.received
        try:
            while not self.complete and self.received - start <= max_bytes:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                message = await asyncio.wait_for(self._receive(), remaining)
                self.received += len(message.get("body", b""))
                self.complete = message["type"] != "http.request" or not message.get("more_body", False)
        except TimeoutError:
            return False
        return self.complete


class RequestGuard:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, limits: GuardLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = _Body(receive, self.limits.body_timeout_s)
        send = self._answer_after_drain(scope, body, send)
        try:
            await self._guarded(scope, body, send)
        except ServiceError as exc:  # raised here, before the app: a body timeout, a busy database
            response = error_response(exc.code, exc.message, exc.status, exc.detail, exc.headers)
            await response(scope, body.receive, send)
        finally:
            if body.received > _TRIM_AFTER_BYTES:
                release_free_memory()

    async def _guarded(self, scope: Scope, body: _Body, send: Send) -> None:
        if scope["path"].startswith(_AUTH_PREFIX):
            principal = await _authenticate(scope)
            if principal is None:
                await _refuse(scope, body, send, ServiceError(
                    ErrorCode.unauthenticated, "missing or unknown API key (Authorization: Bearer KEY)",
                    headers={"WWW-Authenticate": "Bearer"}))
                return
            scope[PRINCIPAL_SCOPE_KEY] = principal
        if scope["path"] in self.limits.upload_paths:
            await self.app(scope, body.receive, send)  # streamed; service/uploads.py counts it
            return
        limit = self.limits.json_bytes
        declared = _header(scope, b"content-length")
        too_large = ServiceError(ErrorCode.payload_too_large, f"body exceeds {limit} bytes",
                                 detail={"limit": limit})
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, body, send, too_large)
            return
        data = await body.read_all(limit)
        if data is None:
            await _refuse(scope, body, send, too_large)
            return
        await self.app(scope, _replay(data, body), send)

    def _answer_after_drain(self, scope: Scope, body: _Body, send: Send) -> Send:
        """An answer given while the body is still unread goes out whole at once (a client waiting for it
        gets it), but the response is only completed - and the connection possibly closed - after the
        rest of the body was read and discarded (a client still sending then reads it, no reset)."""
        expects_continue = _header(scope, b"expect").lower() == "100-continue"

        async def guarded_send(message: Message) -> None:
            final = message["type"] == "http.response.body" and not message.get("more_body", False)
            if not final or body.complete or body.timed_out or expects_continue:
                await send(message)
                return
            await send({**message, "more_body": True})
            if not await body.drain(self.limits.drain_max_bytes, self.limits.drain_timeout_s):
                log.info("request body not drained before closing; the client may see a reset",
                         extra={"path": scope["path"], "received": body.received})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        return guarded_send


async def _authenticate(scope: Scope) -> Principal | None:
    header = _header(scope, b"authorization")
    if not header:
        return None
    gate = scope["app"].state.db_gate
    principal: Principal | None = await gate.run(lambda session: authenticate(session, header))
    return principal


async def _refuse(scope: Scope, body: _Body, send: Send, error: ServiceError) -> None:
    response = error_response(error.code, error.message, error.status, error.detail, error.headers)
    await response(scope, body.receive, send)


def _replay(data: bytes, body: _Body) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await body.receive()

    return receive


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return ""


def scope_principal(scope: MutableMapping[str, Any]) -> Principal | None:
    """The caller the guard already authenticated for this request, if any."""
    principal = scope.get(PRINCIPAL_SCOPE_KEY)
    return principal if isinstance(principal, Principal) else None
