"""JSON endpoints the review page's scripts call, authenticated by the session cookie.
Every state-changing one needs the session's CSRF token (X-CSRF-Token); every lookup is scoped to
the reviewer's tenant (another tenant's document is a 404, as in the API)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from models import Document, FindingRow, JobState, TableRow
from service import render
from service.access import require_results, tenant_document
from service.corrections import correct_cell
from service.deps import GateDep, ResolverDep, RunnerDep, SettingsDep, StorageDep
from service.errors import ErrorCode, ServiceError, not_found
from service.ingest import ingest
from service.remote_upload import download_upload
from service.review import actions
from service.review.session import ReviewPrincipal
from service.review.web import CsrfReviewer, Reviewer
from service.review.workspace import overview, workspace
from service.uploads import receive_upload

router = APIRouter(prefix="/review/api", include_in_schema=False)
UPLOAD_PATH = "/review/api/documents"
LIST_LIMIT = 200
REVIEW_STATES = {"open", "in_review", "approved"}


class CellText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=1000)


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str | None = Field(None, max_length=50)


class FetchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=4096)


def _list(session: Session, reviewer: ReviewPrincipal, state: str | None, severity: str | None,
          form: str | None) -> dict[str, Any]:
    query = select(Document).where(Document.tenant_id == reviewer.principal.tenant_id)
    if state and state not in REVIEW_STATES:
        query = query.where(Document.status == state)
    if severity:
        flagged = select(FindingRow.document_id).where(FindingRow.severity == severity)
        query = query.where(col(Document.id).in_(flagged))
    if form:
        with_form = select(TableRow.document_id).where(TableRow.form == form)
        query = query.where(col(Document.id).in_(with_form))
    documents = session.exec(query.order_by(col(Document.created_at).desc()).limit(LIST_LIMIT)).all()
    items = [overview(session, d) for d in documents]
    if state in REVIEW_STATES:
        items = [i for i in items if i["review"] == state and i["status"] == JobState.succeeded]
    forms = session.exec(select(TableRow.form).distinct().join(Document)
                         .where(Document.tenant_id == reviewer.principal.tenant_id,
                                col(TableRow.form).is_not(None)))
    return {"items": items, "forms": sorted(f for f in forms.all() if f)}


@router.get("/documents")
async def list_documents(reviewer: Reviewer, gate: GateDep,
                         state: Annotated[str | None, Query(max_length=20)] = None,
                         severity: Annotated[Literal["error", "warning", "info"] | None, Query()] = None,
                         form: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    return await gate.run(lambda session: _list(session, reviewer, state or None, severity, form or None))


@router.post("/documents", status_code=202)
async def upload(*, request: Request, reviewer: CsrfReviewer, gate: GateDep, storage: StorageDep,
                 runner: RunnerDep, settings: SettingsDep) -> dict[str, Any]:
    received = await receive_upload(request, storage, settings.max_upload_bytes)
    result = await gate.run(lambda session: ingest(session, storage, runner, settings, reviewer.principal,
                                                   upload=received, callback_url=None))
    return {"document_id": result.document_id, "job_id": result.job_id, "duplicate": result.duplicate}


@router.post("/documents/fetch", status_code=202)
async def fetch(*, body: FetchBody, reviewer: CsrfReviewer, gate: GateDep, storage: StorageDep,
                runner: RunnerDep, settings: SettingsDep, resolver: ResolverDep) -> dict[str, Any]:
    received = await download_upload(body.url, storage, settings, resolver)
    result = await gate.run(lambda session: ingest(session, storage, runner, settings, reviewer.principal,
                                                   upload=received, callback_url=None))
    return {"document_id": result.document_id, "job_id": result.job_id, "duplicate": result.duplicate}


def _workspace(session: Session, reviewer: ReviewPrincipal, document_id: str) -> dict[str, Any]:
    return workspace(session, tenant_document(session, reviewer.principal, document_id))


@router.get("/documents/{document_id}")
async def get_workspace(document_id: str, reviewer: Reviewer, gate: GateDep) -> dict[str, Any]:
    return await gate.run(lambda session: _workspace(session, reviewer, document_id))


@router.get("/documents/{document_id}/pages/{page_number}.png")
async def page_png(*, document_id: str, reviewer: Reviewer, gate: GateDep, storage: StorageDep,
                   settings: SettingsDep, page_number: Annotated[int, Path(ge=1, le=100_000)],
                   dpi: Annotated[int, Query(ge=36, le=200)] = 110) -> Response:
    document = await gate.run(lambda session: tenant_document(session, reviewer.principal, document_id))
    info = next((p for p in document.page_info if p.get("number") == page_number), None)
    if info is None:
        raise not_found("page", page_number)
    geometry = render.PageGeometry(dpi=int(info.get("dpi", settings.dpi)),
                                   rotation=int(info.get("rotation", 0)),
                                   skew_deg=float(info.get("skew_deg", 0.0)))
    png = await run_in_threadpool(
        lambda: render.render_page(storage.local_path(document.storage_key), page_number, dpi, geometry,
                                   tables=None, max_page_pixels=settings.max_page_pixels,
                                   timeout_s=settings.page_timeout_s))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


def _mutate(session: Session, reviewer: ReviewPrincipal, document_id: str, change: Any) -> dict[str, Any]:
    """Lock the document, apply ``change(document)``, answer with the whole recomputed workspace."""
    document = tenant_document(session, reviewer.principal, document_id, lock=True)
    require_results(document)
    change(document)
    return workspace(session, document)


@router.patch("/documents/{document_id}/cells/{cell_id}")
async def patch_cell(document_id: str, cell_id: Annotated[int, Path(ge=1, le=2**62)], body: CellText,
                     reviewer: CsrfReviewer, gate: GateDep) -> dict[str, Any]:
    return await gate.run(lambda session: _mutate(
        session, reviewer, document_id,
        lambda document: correct_cell(session, document, cell_id, body.text, reviewer.principal)))


@router.post("/documents/{document_id}/corrections/{correction_id}/undo")
async def undo(document_id: str, correction_id: Annotated[int, Path(ge=1, le=2**62)], reviewer: CsrfReviewer,
               gate: GateDep) -> dict[str, Any]:
    return await gate.run(lambda session: _mutate(
        session, reviewer, document_id,
        lambda document: actions.undo(session, document, correction_id, reviewer.principal)))


@router.post("/documents/{document_id}/approvals")
async def approve(document_id: str, body: ApprovalBody, reviewer: CsrfReviewer,
                  gate: GateDep) -> dict[str, Any]:
    return await gate.run(lambda session: _mutate(
        session, reviewer, document_id,
        lambda document: actions.approve(session, document, body.table, reviewer.principal)))


@router.delete("/documents/{document_id}/approvals")
async def withdraw(document_id: str, reviewer: CsrfReviewer, gate: GateDep,
                   table: Annotated[str | None, Query(max_length=50)] = None) -> dict[str, Any]:
    return await gate.run(lambda session: _mutate(
        session, reviewer, document_id, lambda document: actions.withdraw(session, document, table)))


@router.api_route("/{rest:path}", methods=["GET", "POST", "PATCH", "DELETE", "PUT"])
def unknown(rest: str) -> None:
    raise ServiceError(ErrorCode.not_found, f"no review endpoint /review/api/{rest}")
