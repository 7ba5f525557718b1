"""Synchronous validation of tables the caller already has (no OCR)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from ocr.contract import Finding, Record
from service import fiscal_bridge
from service.deps import CallerDep
from service.errors import ERROR_RESPONSES, ErrorBody
from service.limits import check_tables
from service.schemas import ValidateBody, ValidateResult

router = APIRouter(prefix="/v1", tags=["validate"], responses=ERROR_RESPONSES)

BODY_ADAPTER: TypeAdapter[Any] = TypeAdapter(ValidateBody)
_BODY_SCHEMA: dict[str, Any] = {
    "anyOf": [{"$ref": "#/components/schemas/TablesOnly"}, {"$ref": "#/components/schemas/Extraction"}],
    "title": "Body",
}


@router.post("/validate", response_model=ValidateResult,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": _BODY_SCHEMA}},
                                            "required": True}},
             responses={413: {"model": ErrorBody, "description": "Body too large"},
                        503: {"model": ErrorBody, "description": "Fiscal layer unavailable"}})
async def validate(request: Request, principal: CallerDep) -> ValidateResult:
    """Body: ``{"tables": [...]}`` or a whole Extraction (schema v1). Returns records and findings
    computed by the fiscal layer (``fiscal.validate_tables``). Bodies over MAX_JSON_BYTES get 413.
    The body is parsed in a worker thread: a 10 MB body must not stall the event loop."""
    raw = await request.body()
    records, findings = await run_in_threadpool(_parse_and_validate, raw)
    return ValidateResult(records=records, findings=findings)


def _parse_and_validate(raw: bytes) -> tuple[list[Record], list[Finding]]:
    try:
        body = BODY_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]) from None
    check_tables(body.tables)
    return fiscal_bridge.validate_tables(list(body.tables))


def body_component_schemas() -> dict[str, Any]:
    """The request body's models for the OpenAPI components (the route reads the body itself)."""
    schema = BODY_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = schema.get("$defs", {})
    return defs
