"""One error shape everywhere: ``{"code", "message", "detail"}``; every code is an ``ErrorCode`` member,
which carries its HTTP status.

Codes come from ``ocr.errors`` (stable, machine-readable) and from the service itself; their strings
are a public, stable API. Anything not anticipated becomes 500 ``internal_error`` with no internals
in the body (details go to the log). The errors raised on purpose::

    Exception
    ├── ocr.errors.FiscalOCRError              code: a class attribute
    │   ├── InputError                         invalid_input
    │   │   ├── UnsupportedFormatError         unsupported_format
    │   │   ├── EncryptedPDFError              pdf_encrypted
    │   │   ├── CorruptPDFError                pdf_corrupt
    │   │   ├── EmptyDocumentError             document_empty
    │   │   ├── TooManyPagesError              too_many_pages
    │   │   ├── PageTooLargeError              page_too_large
    │   │   └── InvalidPageRangeError          invalid_page_range
    │   ├── ProcessingTimeoutError             processing_timeout
    │   ├── EngineUnavailableError             engine_unavailable
    │   └── service.netguard.FetchError        fetch_failed
    │       ├── RefusedAddressError            fetch_refused_address
    │       └── service.fetch: TooLargeError (fetch_too_large), FetchTimeoutError (fetch_timeout),
    │                          TooManyRedirectsError (fetch_too_many_redirects)
    └── ServiceError                           code: the ErrorCode it is raised with
        └── service.guard.BodyTimeoutError     request_timeout

Handlers (``install_handlers``) turn each into the JSON shape with ``ErrorCode(code).status``;
``tests/service/test_error_codes.py`` checks that every code raised or declared is a member.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocr.errors import FiscalOCRError

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """A stable error code (its string) and the HTTP status it is answered with."""

    status: int

    def __new__(cls, code: str, status: int) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        return member

    @classmethod
    def of(cls, code: str) -> ErrorCode:
        """The member whose string is ``code`` (ValueError for a code that is not one)."""
        return cls(code)  # type: ignore[call-arg]  # by value: Enum's lookup, not __new__

    # ocr.errors
    invalid_input = "invalid_input", 400
    invalid_page_range = "invalid_page_range", 400
    unsupported_format = "unsupported_format", 415
    pdf_encrypted = "pdf_encrypted", 422
    pdf_corrupt = "pdf_corrupt", 422
    document_empty = "document_empty", 422
    too_many_pages = "too_many_pages", 413
    page_too_large = "page_too_large", 413
    processing_timeout = "processing_timeout", 503
    engine_unavailable = "engine_unavailable", 503
    # service/netguard + service/fetch
    fetch_refused_address = "fetch_refused_address", 403  # an address the service may not contact
    fetch_failed = "fetch_failed", 502  # the remote server could not be reached or answered with an error
    fetch_timeout = "fetch_timeout", 504
    fetch_too_many_redirects = "fetch_too_many_redirects", 502
    fetch_too_large = "fetch_too_large", 413
    # service
    bad_request = "bad_request", 400
    unauthenticated = "unauthenticated", 401
    request_timeout = "request_timeout", 408  # headers or body stopped arriving (guard.py, server.py)
    not_found = "not_found", 404
    method_not_allowed = "method_not_allowed", 405
    conflict = "conflict", 409
    document_not_ready = "document_not_ready", 409
    job_finished = "job_finished", 409
    payload_too_large = "payload_too_large", 413
    unsupported_media_type = "unsupported_media_type", 415
    validation_error = "validation_error", 422
    too_many_jobs = "too_many_jobs", 429
    too_many_renders = "too_many_renders", 429  # page images being rendered for this tenant at once
    service_unavailable = "service_unavailable", 503
    service_busy = "service_busy", 503
    webhook_secret_missing = "webhook_secret_missing", 422
    # review page, approvals, batches (service/review, service/api/review.py, service/api/batches.py)
    csrf_failed = "csrf_failed", 403  # a state-changing request without the session's CSRF token
    correction_superseded = "correction_superseded", 409  # undo of a correction the cell no longer shows
    batch_empty = "batch_empty", 422
    batch_too_large = "batch_too_large", 413
    internal_error = "internal_error", 500


STATUS_BY_CODE: dict[str, int] = {code.value: code.status for code in ErrorCode}
"""code string -> HTTP status (derived from ``ErrorCode``)."""


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: dict[str, Any] | list[Any] | None = None


class ServiceError(Exception):
    """A failure the service reports on purpose; ``status`` defaults from the code."""

    def __init__(self, code: ErrorCode, message: str, *, status: int | None = None,
                 detail: dict[str, Any] | list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or self.code.status
        self.detail = detail
        self.headers = headers

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised inside worker processes too: keep code/status/detail across pickling.
        return (_rebuild_service_error, (self.code, self.message, self.status, self.detail))


def _rebuild_service_error(code: ErrorCode, message: str, status: int, detail: Any) -> ServiceError:
    return ServiceError(code, message, status=status, detail=detail)


def not_found(what: str, ident: object) -> ServiceError:
    return ServiceError(ErrorCode.not_found, f"{what} {ident} not found", detail={"resource": what})


def status_for(code: str) -> int:
    """The HTTP status of a code (400 for a code no member has: a library error from elsewhere)."""
    return STATUS_BY_CODE.get(code, 400)


def error_response(code: str, message: str, status: int, detail: Any = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=code, message=message, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers) if headers else None)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "Bad request"), (401, "Missing or unknown API key"), (404, "Not found (or another tenant's)"),
        (422, "Validation error"),
    ]
}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.status, exc.detail, exc.headers)

    @app.exception_handler(FiscalOCRError)
    async def _library(_: Request, exc: FiscalOCRError) -> JSONResponse:
        return error_response(exc.code, exc.message, status_for(exc.code), exc.detail or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_plain_error(e) for e in exc.errors()]
        return error_response(ErrorCode.validation_error, "request did not validate", 422, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: ErrorCode.not_found, 405: ErrorCode.method_not_allowed,
                401: ErrorCode.unauthenticated}.get(
            exc.status_code, ErrorCode.bad_request if exc.status_code < 500 else ErrorCode.internal_error)
        return error_response(code, str(exc.detail), exc.status_code, None, exc.headers)

    @app.exception_handler(PoolTimeoutError)
    async def _pool_timeout(request: Request, exc: PoolTimeoutError) -> JSONResponse:
        # Only reachable if something bypasses the DatabaseGate; overload is still not a bug.
        log.warning("database pool timeout on %s %s", request.method, request.url.path)
        return error_response(ErrorCode.service_busy,
                              "the service is busy (database pool exhausted); retry shortly",
                              503, None, {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(ErrorCode.internal_error, "internal error", 500)


def _plain_error(error: Any) -> dict[str, Any]:
    """A JSON-safe copy of one pydantic error (``ctx`` may hold exception objects, input may be bytes)."""
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }
