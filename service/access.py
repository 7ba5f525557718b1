"""Tenant-scoped lookups shared by the API routers and the review pages. Another tenant's resource is
reported exactly like a missing one (404); a document without results yet is a 409."""

from __future__ import annotations

from sqlmodel import Session

from models import Document, Job, JobState, TableRow
from service import repo
from service.auth import Principal
from service.errors import ErrorCode, ServiceError, not_found


def tenant_document(session: Session, principal: Principal, document_id: str, *,
                    lock: bool = False) -> Document:
    document = repo.tenant_document(session, principal.tenant_id, document_id, lock=lock)
    if document is None:
        raise not_found("document", document_id)
    return document


def tenant_job(session: Session, principal: Principal, job_id: str) -> Job:
    job = repo.tenant_job(session, principal.tenant_id, job_id)
    if job is None:
        raise not_found("job", job_id)
    return job


def require_results(document: Document) -> None:
    if document.status != JobState.succeeded:
        raise ServiceError(ErrorCode.document_not_ready, f"document {document.id} has no results yet "
                           f"(status {document.status})", detail={"status": document.status})


def document_table(session: Session, document: Document, table_ref: str) -> TableRow:
    table = repo.document_table(session, document.id, table_ref)
    if table is None:
        raise not_found("table", table_ref)
    return table
