"""Review over the API: approvals (per table, per document), the correction history with undo,
and the annotated report PDF. The review page calls the same functions (service/review)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from service.access import require_results, tenant_document
from service.deps import CallerDep, GateDep, PrincipalDep, SessionDep, SettingsDep, StorageDep
from service.errors import ERROR_RESPONSES, ErrorBody
from service.review import actions
from service.review.reporting import ready_report_inputs, render_report
from service.review.workspace import corrections_view, review_state, table_refs
from service.schemas import CorrectionOut

router = APIRouter(prefix="/v1/documents/{document_id}", tags=["review"],
                   responses={**ERROR_RESPONSES, 409: {"model": ErrorBody, "description": "No results yet"}})


class ApprovalState(BaseModel):
    approved: bool = Field(description="Signed off, and no correction since")
    who: str | None
    at: datetime | None
    stale: bool = Field(description="Signed off, but a cell was corrected afterwards")


class ReviewCorrection(CorrectionOut):
    undoable: bool = Field(description="The cell still shows this correction's text")


class ReviewOut(BaseModel):
    state: Literal["open", "in_review", "approved"]
    document: ApprovalState
    tables: dict[str, ApprovalState]
    corrections: list[ReviewCorrection] = Field(description="Newest first")


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, max_length=50, description="A table id; omit to approve the document")


def review_out(session: Any, document_id: str, table_refs: list[str]) -> ReviewOut:
    state = review_state(session, document_id, table_refs)
    corrections = [ReviewCorrection(correction_id=c["correction_id"], cell_id=c["cell_id"],
                                    table_id=c["table"], row=c["row"], col=c["col"], old=c["old"],
                                    new=c["new"], who=c["who"], at=c["at"], undoable=c["undoable"])
                   for c in corrections_view(session, document_id)]
    return ReviewOut(state=state["state"], document=ApprovalState(**state["document"]),
                     tables={k: ApprovalState(**v) for k, v in state["tables"].items()},
                     corrections=corrections)


@router.get("/review", response_model=ReviewOut)
def get_review(document_id: str, principal: PrincipalDep, session: SessionDep) -> ReviewOut:
    """Review state: sign-offs per table and for the document, and every correction (who, when, old, new)."""
    document = tenant_document(session, principal, document_id)
    return review_out(session, document.id, table_refs(session, document.id))


@router.post("/approvals", response_model=ReviewOut)
def approve(document_id: str, body: ApprovalRequest, principal: PrincipalDep,
            session: SessionDep) -> ReviewOut:
    """Sign off one table (``table``) or the whole document. A later correction makes it stale."""
    document = tenant_document(session, principal, document_id, lock=True)
    require_results(document)
    actions.approve(session, document, body.table, principal)
    return review_out(session, document.id, table_refs(session, document.id))


@router.delete("/approvals", response_model=ReviewOut)
def withdraw(document_id: str, principal: PrincipalDep, session: SessionDep,
             table: Annotated[str | None, Query(max_length=50)] = None) -> ReviewOut:
    """Withdraw the sign-off of a table (``table``) or of the document."""
    document = tenant_document(session, principal, document_id, lock=True)
    actions.withdraw(session, document, table)
    return review_out(session, document.id, table_refs(session, document.id))


@router.post("/corrections/{correction_id}/undo", response_model=ReviewOut,
             responses={409: {"model": ErrorBody, "description": "The cell changed again since "
                                                                 "(correction_superseded)"}})
def undo_correction(document_id: str, correction_id: Annotated[int, Path(ge=1, le=2**62)],
                    principal: PrincipalDep, session: SessionDep) -> ReviewOut:
    """Put the cell back to its text before this correction (recorded as a new correction)."""
    document = tenant_document(session, principal, document_id, lock=True)
    require_results(document)
    actions.undo(session, document, correction_id, principal)
    return review_out(session, document.id, table_refs(session, document.id))


@router.get("/report.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}},
                             "description": "The pages with numbered finding boxes, "
                                            "then a summary in Chinese"}})
async def report_pdf(document_id: str, principal: CallerDep, gate: GateDep, storage: StorageDep,
                     settings: SettingsDep) -> Response:
    """The annotated report: each page with the findings drawn (errors red, warnings amber,
    numbered), then every finding with its page, quote and cells, the corrections and sign-offs."""
    document, gathered = await gate.run(lambda session: ready_report_inputs(session, principal, document_id))
    pdf = await run_in_threadpool(lambda: render_report(document, gathered, storage, settings))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{document.id}-report.pdf"'})
