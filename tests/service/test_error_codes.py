"""Error codes are ``ErrorCode`` members carrying their HTTP status: every code the service or the
extraction core can raise maps to a status, every ``ServiceError`` is raised with a member, and the
code strings and statuses (a public, stable API) are the ones clients have always seen."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import ocr.errors
from service import fetch, netguard
from service.errors import STATUS_BY_CODE, ErrorCode, ServiceError, status_for
from service.guard import BodyTimeoutError

SERVICE = Path(__file__).resolve().parents[2] / "service"

PUBLISHED = {
    "invalid_input": 400, "invalid_page_range": 400, "unsupported_format": 415, "pdf_encrypted": 422,
    "pdf_corrupt": 422, "document_empty": 422, "too_many_pages": 413, "page_too_large": 413,
    "processing_timeout": 503, "engine_unavailable": 503, "fetch_refused_address": 403, "fetch_failed": 502,
    "fetch_timeout": 504, "fetch_too_many_redirects": 502, "fetch_too_large": 413, "bad_request": 400,
    "unauthenticated": 401, "request_timeout": 408, "not_found": 404, "method_not_allowed": 405,
    "conflict": 409, "document_not_ready": 409, "job_finished": 409, "payload_too_large": 413,
    "unsupported_media_type": 415, "validation_error": 422, "too_many_jobs": 429, "too_many_renders": 429,
    "service_unavailable": 503, "service_busy": 503, "webhook_secret_missing": 422, "csrf_failed": 403,
    "correction_superseded": 409, "batch_empty": 422, "batch_too_large": 413, "internal_error": 500,
}
"""The code -> status map as published before ErrorCode existed."""

# Calls whose first argument is an error code.
CODE_TAKING = {"ServiceError", "error_response", "error_bytes"}


def test_codes_and_statuses_are_the_published_ones() -> None:
    assert {code.value: code.status for code in ErrorCode} == PUBLISHED
    assert STATUS_BY_CODE == PUBLISHED
    for code in ErrorCode:
        assert code.name == code.value and 400 <= code.status < 600
        assert ErrorCode.of(code.value) is code and status_for(code.value) == code.status


def test_every_typed_library_error_has_a_member() -> None:
    classes = [cls for module in (ocr.errors, netguard, fetch)
               for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, ocr.errors.FiscalOCRError)]
    assert len(classes) >= 15
    missing = {cls.__name__: cls.code for cls in classes if cls.code not in STATUS_BY_CODE}
    assert missing == {}


def test_service_errors_take_their_status_from_the_member() -> None:
    assert ServiceError(ErrorCode.job_finished, "m").status == 409
    assert ServiceError(ErrorCode.bad_request, "m", status=415).status == 415  # an explicit override
    timeout = BodyTimeoutError(5.0)
    assert timeout.code is ErrorCode.request_timeout and timeout.status == 408


def _literal_codes(source: str) -> list[str]:
    """Calls in CODE_TAKING whose code argument is not an ``ErrorCode.<member>``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "__init__" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            name = "ServiceError"  # super().__init__(code, ...) in a ServiceError subclass
        if name not in CODE_TAKING or not node.args:
            continue
        code = node.args[0]
        bad = isinstance(code, ast.Constant)
        if isinstance(code, ast.Attribute):
            if isinstance(code.value, ast.Name) and code.value.id == "ErrorCode":
                bad = code.attr not in ErrorCode.__members__
            else:
                bad = code.attr != "code"  # passing on a caught error's code (exc.code) is fine
        if bad:
            found.append(f"line {node.lineno}: {ast.unparse(code)}")
    return found


def test_every_raise_names_a_member() -> None:
    offenders = {str(path.relative_to(SERVICE)): found for path in sorted(SERVICE.rglob("*.py"))
                 if (found := _literal_codes(path.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_the_scan_catches_a_string_code() -> None:
    assert _literal_codes('raise ServiceError("not_found", "gone")\n')
    assert _literal_codes('raise ServiceError(ErrorCode.no_such_code, "gone")\n')
    assert _literal_codes('error_response("internal_error", "x", 500)\n')
    assert not _literal_codes('raise ServiceError(ErrorCode.not_found, "gone")\n')
    assert not _literal_codes("error_response(exc.code, exc.message, exc.status)\n")
