"""Synchronous validation of tables the caller already has (no OCR)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from ocr.contract import Cell, Finding, Record
from service import fiscal_bridge, validate_pool
from service.deps import CallerDep
from service.errors import ERROR_RESPONSES, ErrorBody
from service.limits import check_tables
from service.schemas import ValidateBody, ValidateResult

router = APIRouter(prefix="/v1", tags=["validate"], responses=ERROR_RESPONSES)

BODY_ADAPTER: TypeAdapter[Any] = TypeAdapter(ValidateBody)
_CELLS: TypeAdapter[list[Cell]] = TypeAdapter(list[Cell])
_CELL_SLICE = 1000
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
    Large bodies are parsed in a child process (service/validate_pool.py): they must not stall the loop."""
    raw = await request.body()
    records, findings = await validate_pool.run_sized(_parse_and_validate, raw)
    return ValidateResult(records=records, findings=findings)


def _parse_and_validate(raw: bytes) -> tuple[list[Record], list[Finding]]:
    body = parse_body(raw)
    check_tables(body.tables)
    return fiscal_bridge.validate_tables(list(body.tables))


def parse_body(raw: bytes) -> Any:
    """The body as TablesOnly or Extraction. Cells are validated in slices: one pydantic call over
    100 000 cells holds the GIL for seconds, and the event loop (``/healthz`` included) with it."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _invalid([{"loc": ("body",), "msg": f"invalid JSON: {exc}", "type": "json_invalid"}]) from None
    held = _take_cells(data)
    try:
        body = BODY_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _invalid(_located(exc, ("body",))) from None
    for index, cells in held:
        body.tables[index].cells = _validate_cells(index, cells)
    return body


def _take_cells(data: Any) -> list[tuple[int, list[Any]]]:
    """Take each table's cell list out of the parsed body (validated separately, in slices)."""
    held: list[tuple[int, list[Any]]] = []
    tables = data.get("tables") if isinstance(data, dict) else None
    for index, table in enumerate(tables if isinstance(tables, list) else []):
        if isinstance(table, dict) and isinstance(table.get("cells"), list):
            held.append((index, table["cells"]))
            table["cells"] = []
    return held


def _validate_cells(table_index: int, cells: list[Any]) -> list[Cell]:
    validated: list[Cell] = []
    errors: list[dict[str, Any]] = []
    for start in range(0, len(cells), _CELL_SLICE):
        try:
            validated.extend(_CELLS.validate_python(cells[start:start + _CELL_SLICE]))
        except ValidationError as exc:
            for error in _located(exc, ("body", "tables", table_index, "cells")):
                error["loc"] = (*error["loc"][:4], error["loc"][4] + start, *error["loc"][5:])
                errors.append(error)
        if len(errors) >= 20:
            break
    if errors:
        raise _invalid(errors[:20])
    return validated


def _located(exc: ValidationError, prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{**error, "loc": (*prefix, *error["loc"])} for error in exc.errors(include_url=False)]


def _invalid(errors: list[dict[str, Any]]) -> RequestValidationError:
    return RequestValidationError(errors)


def body_component_schemas() -> dict[str, Any]:
    """The request body's models for the OpenAPI components (the route reads the body itself)."""
    schema = BODY_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = schema.get("$defs", {})
    return defs
