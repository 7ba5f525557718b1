"""Synchronous validation of tables the caller already has (no OCR)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from service import fiscal_bridge
from service.deps import CallerDep
from service.errors import ERROR_RESPONSES, ErrorBody
from service.limits import check_tables
from service.schemas import ValidateBody, ValidateResult

router = APIRouter(prefix="/v1", tags=["validate"], responses=ERROR_RESPONSES)


@router.post("/validate", response_model=ValidateResult,
             responses={413: {"model": ErrorBody, "description": "Body too large"},
                        503: {"model": ErrorBody, "description": "Fiscal layer unavailable"}})
async def validate(body: ValidateBody, principal: CallerDep) -> ValidateResult:
    """Body: ``{"tables": [...]}`` or a whole Extraction (schema v1). Returns records and findings
    computed by the fiscal layer (``fiscal.validate_tables``). Bodies over MAX_JSON_BYTES get 413."""
    check_tables(body.tables)
    records, findings = await run_in_threadpool(fiscal_bridge.validate_tables, list(body.tables))
    return ValidateResult(records=records, findings=findings)
