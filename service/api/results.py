"""A document's results: tables and cells, records (JSON/CSV/XLSX), findings, page images, corrections."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from models import Document
from ocr.contract import Finding as ContractFinding
from ocr.contract import Record as ContractRecord
from ocr.contract import Table as ContractTable
from service import exports, render, repo, results
from service.access import document_table, require_results, tenant_document
from service.auth import Principal
from service.corrections import correct_cell
from service.deps import CallerDep, GateDep, PrincipalDep, SessionDep, SettingsDep, StorageDep
from service.errors import ERROR_RESPONSES, ErrorBody, ErrorCode, ServiceError, not_found
from service.review.workspace import review_state, table_refs
from service.schemas import (
    CellOut,
    CellPatch,
    CellPatched,
    CorrectionOut,
    FindingList,
    RecordList,
    TableDetail,
    TableList,
    TableOut,
)

router = APIRouter(prefix="/v1/documents/{document_id}", tags=["results"],
                   responses={**ERROR_RESPONSES, 409: {"model": ErrorBody, "description": "No results yet"}})

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/tables", response_model=TableList)
def list_tables(document_id: str, principal: PrincipalDep, session: SessionDep) -> TableList:
    document = tenant_document(session, principal, document_id)
    require_results(document)
    return TableList(tables=[TableOut.model_validate(t) for t in repo.tables(session, document.id)])


@router.get("/tables/{table_id}", response_model=TableDetail)
def get_table(document_id: str, table_id: str, principal: PrincipalDep, session: SessionDep) -> TableDetail:
    """One table with its cells (ids usable in PATCH .../cells/{cell_id}), confidence and bbox."""
    document = tenant_document(session, principal, document_id)
    require_results(document)
    table = document_table(session, document, table_id)
    return TableDetail(**TableOut.model_validate(table).model_dump(),
                       cells=[CellOut.model_validate(c) for c in repo.table_cells(session, table.id)])


@router.get("/records", response_model=RecordList, responses={
    200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
          "description": "JSON by default; CSV or XLSX download with format=csv|xlsx"}})
def list_records(*, document_id: str, principal: PrincipalDep, session: SessionDep,
                 form: Annotated[str | None, Query(max_length=200)] = None,
                 code: Annotated[str | None, Query(max_length=100)] = None,
                 level: Annotated[str | None, Query(max_length=20)] = None,
                 table: Annotated[str | None, Query(max_length=50)] = None,
                 format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
                 ) -> Response | RecordList:
    document = tenant_document(session, principal, document_id)
    require_results(document)
    rows = repo.records(session, document.id, form=form, code=code, level=level, table_ref=table)
    records = [ContractRecord.model_validate(r.data) for r in rows]
    if format == "json":
        return RecordList(records=records)
    if format == "csv":
        body, media_type = exports.to_csv(records), "text/csv; charset=utf-8"
    else:
        review = review_state(session, document.id, table_refs(session, document.id))
        body, media_type = exports.to_xlsx(records, review, _findings(session, document.id)), XLSX_TYPE
    filename = f"{document.id}-records.{format}"
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _findings(session: Session, document_id: str, severity: str | None = None) -> list[ContractFinding]:
    return [ContractFinding.model_validate(f.data) for f in repo.findings(session, document_id, severity)]


@router.get("/findings", response_model=FindingList, responses={
    200: {"content": {"text/csv": {}},
          "description": "JSON by default; CSV (page, box, cells, quote of each) with format=csv"}})
def list_findings(document_id: str, principal: PrincipalDep, session: SessionDep,
                  severity: Annotated[Literal["error", "warning", "info"] | None, Query()] = None,
                  format: Annotated[Literal["json", "csv"], Query()] = "json",
                  ) -> Response | FindingList:
    document = tenant_document(session, principal, document_id)
    require_results(document)
    findings = _findings(session, document.id, severity)
    if format == "json":
        return FindingList(findings=findings)
    return Response(exports.findings_csv(findings), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{document.id}-findings.csv"'})


@router.get("/pages/{page_number}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The page as PNG"},
                       429: {"model": ErrorBody, "description": "Too many page renders at once for this "
                                                                "tenant (too_many_renders)"}})
async def page_image(*, document_id: str, principal: CallerDep, gate: GateDep, storage: StorageDep,
                     settings: SettingsDep,
                     page_number: Annotated[int, Path(ge=1, le=100_000)],
                     overlay: Annotated[Literal["none", "grid"], Query()] = "none",
                     dpi: Annotated[int, Query(ge=36, le=300)] = 100) -> Response:
    """The stored original's page rendered on demand (upright, as the OCR saw it);
    ``overlay=grid`` draws the stored tables and cells (with their current, corrected text)."""
    document, tables = await gate.run(
        lambda session: _page_inputs(session, principal, document_id, page_number, overlay == "grid"))
    info = next((p for p in document.page_info if p.get("number") == page_number), {})
    geometry = render.PageGeometry(dpi=int(info.get("dpi", settings.dpi)),
                                   rotation=int(info.get("rotation", 0)),
                                   skew_deg=float(info.get("skew_deg", 0.0)))
    # Rendering holds no database slot: only the lookups above needed one. A page render takes a
    # thread and up to hundreds of MB, so one tenant may only run a few at once.
    with render.tenant_render_slot(principal.tenant_id, settings.max_renders_per_tenant):
        png = await run_in_threadpool(
            lambda: render.render_page(storage.local_path(document.storage_key), page_number, dpi, geometry,
                                       tables=tables, max_page_pixels=settings.max_page_pixels,
                                       timeout_s=settings.page_timeout_s))
    return Response(png, media_type="image/png")


def _page_inputs(session: Session, principal: Principal, document_id: str, page_number: int,
                 with_tables: bool) -> tuple[Document, list[ContractTable] | None]:
    document = tenant_document(session, principal, document_id)
    if document.pages is None:
        raise ServiceError(ErrorCode.document_not_ready, "the document's pages are not counted yet")
    if page_number > document.pages:
        raise not_found("page", page_number)
    if not with_tables:
        return document, None
    extraction = results.load_extraction(session, document)
    return document, [t for t in extraction.tables if t.page == page_number]


@router.patch("/cells/{cell_id}", response_model=CellPatched)
def patch_cell(document_id: str, cell_id: Annotated[int, Path(ge=1, le=2**62)], patch: CellPatch,
               principal: PrincipalDep, session: SessionDep) -> CellPatched:
    """Correct a cell's text; records and findings of the document are recomputed."""
    document = tenant_document(session, principal, document_id, lock=True)
    require_results(document)
    cell, correction, n_records, severities = correct_cell(session, document, cell_id, patch.text, principal)
    assert correction.id is not None
    return CellPatched(
        cell=CellOut.model_validate(cell),
        correction=CorrectionOut.model_validate(correction),
        records=n_records, findings_by_severity=severities)
