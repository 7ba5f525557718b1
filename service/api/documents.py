"""Documents: upload (streamed, deduplicated), list, detail with summary, delete."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from ocr.source import OCR_MODES
from service import repo
from service.access import tenant_document
from service.api.common import cancel_job, document_out, job_out
from service.deps import (
    CallerDep,
    GateDep,
    PrincipalDep,
    ResolverDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from service.errors import ERROR_RESPONSES, ErrorBody, ErrorCode, ServiceError
from service.ingest import ingest, vet_callback_url
from service.remote_upload import download_upload
from service.schemas import DocumentDetail, DocumentPage, DocumentSummary, FetchRequest, UploadAccepted
from service.uploads import receive_upload

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=ERROR_RESPONSES)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "PDF, PNG, JPEG or TIFF (sniffed by content)"},
                "callback_url": {"type": "string", "maxLength": 2048,
                                 "description": "Webhook called when the job finishes"},
                "ocr": {"type": "string", "enum": list(OCR_MODES),
                        "description": "auto (default): each PDF page's text layer where it is trustworthy, "
                                       "OCR elsewhere; always: OCR every page; never: text layers only"},
            },
        }}},
    }
}


@router.post("", status_code=202, response_model=UploadAccepted, openapi_extra=_UPLOAD_BODY,
             responses={413: {"model": ErrorBody, "description": "Upload too large"},
                        415: {"model": ErrorBody, "description": "Not a PDF/PNG/JPEG/TIFF"},
                        429: {"model": ErrorBody, "description": "Too many queued jobs"}})
async def upload_document(*, request: Request, principal: CallerDep, gate: GateDep,
                          storage: StorageDep, runner: RunnerDep, settings: SettingsDep) -> UploadAccepted:
    """Upload a scanned report (multipart field ``file``); processing starts in the background.
    The same file uploaded again by the same tenant returns the existing ids (``duplicate``).
    A ``callback_url`` needs FISCALOCR_WEBHOOK_SECRET on the server (422 ``webhook_secret_missing``)
    and an address the service may contact (403 ``fetch_refused_address``)."""
    upload = await receive_upload(request, storage, settings.max_upload_bytes)
    try:
        ocr = _ocr_field(upload.fields.get("ocr"))
        callback_url = await vet_callback_url(upload.fields.get("callback_url"), settings,
                                              request.app.state.fetch_resolver)
    except BaseException:
        upload.temp_path.unlink(missing_ok=True)
        raise
    result = await gate.run(lambda session: ingest(session, storage, runner, settings, principal,
                                                   upload=upload, callback_url=callback_url, ocr=ocr))
    return UploadAccepted(document_id=result.document_id, job_id=result.job_id, duplicate=result.duplicate)


@router.post("/fetch", status_code=202, response_model=UploadAccepted,
             responses={403: {"model": ErrorBody, "description": "The URL's address may not be contacted "
                                                                 "(fetch_refused_address)"},
                        413: {"model": ErrorBody, "description": "Document too large (fetch_too_large)"},
                        415: {"model": ErrorBody, "description": "Not a PDF/PNG/JPEG/TIFF"},
                        429: {"model": ErrorBody, "description": "Too many queued jobs"},
                        502: {"model": ErrorBody, "description": "The remote server failed "
                                                                 "(fetch_failed, fetch_too_many_redirects)"},
                        504: {"model": ErrorBody, "description": "The download timed out (fetch_timeout)"}})
async def fetch_document(*, request: Request, body: FetchRequest, principal: CallerDep, gate: GateDep,
                         storage: StorageDep, runner: RunnerDep, settings: SettingsDep,
                         resolver: ResolverDep) -> UploadAccepted:
    """Have the service download a report from ``url`` and process it like an upload.

    Every address on the way (redirects included) is checked before connecting: private, loopback,
    link-local and other non-public addresses are refused with 403 ``fetch_refused_address`` unless
    the host is in FISCALOCR_FETCH_ALLOW_HOSTS. ``callback_url`` works as for uploads."""
    callback_url = await vet_callback_url(body.callback_url, settings, resolver)
    upload = await download_upload(body.url, storage, settings, resolver)
    result = await gate.run(lambda session: ingest(session, storage, runner, settings, principal,
                                                   upload=upload, callback_url=callback_url, ocr=body.ocr))
    return UploadAccepted(document_id=result.document_id, job_id=result.job_id, duplicate=result.duplicate)


def _ocr_field(value: str | None) -> str | None:
    """The upload's ``ocr`` form field, checked (None: the server's default)."""
    if value is None or value == "":
        return None
    if value not in OCR_MODES:
        raise ServiceError(ErrorCode.validation_error, f"ocr must be one of {', '.join(OCR_MODES)}",
                           detail={"field": "ocr"})
    return value


@router.get("", response_model=DocumentPage)
def list_documents(principal: PrincipalDep, session: SessionDep,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> DocumentPage:
    """The caller's documents, newest first."""
    total, documents = repo.document_page(session, principal.tenant_id, limit, offset)
    jobs = repo.latest_jobs(session, [document.id for document in documents])
    items = [document_out(document, jobs[document.id].id if document.id in jobs else None)
             for document in documents]
    return DocumentPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{document_id}", response_model=DocumentDetail)
def get_document(document_id: str, principal: PrincipalDep, session: SessionDep) -> DocumentDetail:
    """Metadata, the latest job and a summary of the results."""
    document = tenant_document(session, principal, document_id)
    job = repo.latest_job(session, document.id)
    base = document_out(document, job.id if job else None)
    return DocumentDetail(**base.model_dump(), job=job_out(job) if job else None,
                          summary=_summary(session, document.id))


def _summary(session: Session, document_id: str) -> DocumentSummary:
    tables = repo.table_kinds_and_forms(session, document_id)
    return DocumentSummary(
        tables=len(tables),
        tables_by_kind=dict(Counter(kind or "unrecognised" for kind, _ in tables)),
        tables_by_form=dict(Counter(form or "none" for _, form in tables)),
        records=repo.count_records(session, document_id),
        findings_by_severity=dict(Counter(repo.finding_severities(session, document_id))),
        corrections=repo.count_corrections(session, document_id),
    )


@router.delete("/{document_id}", status_code=204, response_class=Response)
def delete_document(document_id: str, principal: PrincipalDep, session: SessionDep, storage: StorageDep,
                    runner: RunnerDep) -> Response:
    """Delete the document, its jobs, results and stored file (a running job is cancelled first)."""
    document = tenant_document(session, principal, document_id)
    job_ids = repo.document_job_ids(session, document.id)
    for job_id in job_ids:
        cancel_job(session, runner, job_id)
    repo.delete_document(session, document, job_ids)
    session.commit()
    storage.delete(document.storage_key)
    log.info("document deleted", extra={"document_id": document_id})
    return Response(status_code=204)
