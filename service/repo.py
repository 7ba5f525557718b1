"""Database queries of the job and result flow, as functions of a session (the repository).

Routers, ingest, the job stages, the runners and the webhook sender ask here instead of building
their own ``select``. Nothing in this module writes ``Job.state`` or ``Document.status``: those go
through ``service.jobs.lifecycle``. Tenant scoping is the caller's argument, never implied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from models import (
    Approval,
    CellRow,
    CorrectionRow,
    Document,
    FindingRow,
    Job,
    JobState,
    PageResultRow,
    RecordRow,
    TableRow,
    WebhookDelivery,
)

# --- documents and jobs ------------------------------------------------------------------------


def tenant_document(session: Session, tenant_id: int, document_id: str, *,
                    lock: bool = False) -> Document | None:
    query = select(Document).where(Document.id == document_id, Document.tenant_id == tenant_id)
    return session.exec(query.with_for_update() if lock else query).first()


def tenant_job(session: Session, tenant_id: int, job_id: str) -> Job | None:
    return session.exec(select(Job).where(Job.id == job_id, Job.tenant_id == tenant_id)).first()


def find_document(session: Session, tenant_id: int, sha256: str) -> Document | None:
    return session.exec(select(Document).where(Document.tenant_id == tenant_id,
                                               Document.sha256 == sha256)).first()


def latest_job(session: Session, document_id: str) -> Job | None:
    return session.exec(select(Job).where(Job.document_id == document_id)
                        .order_by(col(Job.created_at).desc())).first()


def latest_jobs(session: Session, document_ids: Sequence[str]) -> dict[str, Job]:
    """The newest job of each document, in one query (a list page must not ask once per document)."""
    if not document_ids:
        return {}
    jobs = session.exec(select(Job).where(col(Job.document_id).in_(list(document_ids)))
                        .order_by(col(Job.created_at).desc())).all()
    latest: dict[str, Job] = {}
    for job in jobs:
        latest.setdefault(job.document_id, job)
    return latest


def document_page(session: Session, tenant_id: int, limit: int, offset: int) -> tuple[int, list[Document]]:
    """(how many documents the tenant has, one page of them newest first)."""
    scope = Document.tenant_id == tenant_id
    total = session.exec(select(func.count()).select_from(Document).where(scope)).one()
    documents = session.exec(select(Document).where(scope)
                             .order_by(col(Document.created_at).desc(), col(Document.id))
                             .offset(offset).limit(limit)).all()
    return int(total), list(documents)


def document_job_ids(session: Session, document_id: str) -> list[str]:
    return list(session.exec(select(Job.id).where(Job.document_id == document_id)).all())


def queued_jobs(session: Session, tenant_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Job).where(
        Job.tenant_id == tenant_id, Job.state == JobState.queued.value)).one())


def job_ids_in_states(session: Session, states: Iterable[JobState]) -> list[str]:
    """Ids of the jobs in ``states``, oldest first."""
    rows = session.exec(select(Job.id).where(col(Job.state).in_([s.value for s in states]))
                        .order_by(col(Job.created_at)))
    return list(rows.all())


def job_state(session: Session, job_id: str) -> str | None:
    return session.exec(select(Job.state).where(Job.id == job_id)).first()


def job_document_id(session: Session, job_id: str) -> str:
    return session.exec(select(Job.document_id).where(Job.id == job_id)).one()


def callback_url(session: Session, job_id: str) -> str | None:
    return session.exec(select(Job.callback_url).where(Job.id == job_id)).first()


def succeeded_documents(session: Session, tenant_id: int, *, exclude: str, limit: int) -> list[Document]:
    """The tenant's documents with results (other than ``exclude``), newest first."""
    return list(session.exec(
        select(Document).where(Document.tenant_id == tenant_id, Document.id != exclude,
                               Document.status == JobState.succeeded.value)
        .order_by(col(Document.created_at).desc()).limit(limit)).all())


def delete_document(session: Session, document: Document, job_ids: list[str]) -> None:
    """Delete the document's rows: results, review trail, jobs and their pages and deliveries."""
    for model in (Approval, CorrectionRow, RecordRow, FindingRow, CellRow, TableRow):
        session.execute(delete(model).where(col(model.document_id) == document.id))
    if job_ids:
        session.execute(delete(PageResultRow).where(col(PageResultRow.job_id).in_(job_ids)))
        session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.job_id).in_(job_ids)))
        session.execute(delete(Job).where(col(Job.id).in_(job_ids)))
    session.execute(delete(Document).where(col(Document.id) == document.id,
                                           col(Document.tenant_id) == document.tenant_id))


# --- stored pages of a job ---------------------------------------------------------------------


def stored_page_numbers(session: Session, job_id: str) -> set[int]:
    return set(session.exec(select(PageResultRow.page_number).where(PageResultRow.job_id == job_id)).all())


def has_page(session: Session, job_id: str, page_number: int) -> bool:
    return session.exec(select(PageResultRow.id).where(PageResultRow.job_id == job_id,
                                                       PageResultRow.page_number == page_number)).first() \
        is not None


def stored_pages(session: Session, job_id: str) -> list[PageResultRow]:
    return list(session.exec(select(PageResultRow).where(PageResultRow.job_id == job_id)
                             .order_by(col(PageResultRow.page_number))).all())


def count_stored_pages(session: Session, job_id: str) -> int:
    return int(session.exec(select(func.count()).select_from(PageResultRow)
                            .where(PageResultRow.job_id == job_id)).one())


def stored_pages_count_query(job_id: str) -> Any:
    """A scalar subquery counting the job's stored pages (for ``pages_done`` in an UPDATE)."""
    return (select(func.count()).select_from(PageResultRow)
            .where(col(PageResultRow.job_id) == job_id).scalar_subquery())


def deliveries(session: Session, job_id: str) -> list[WebhookDelivery]:
    return list(session.exec(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id)
                             .order_by(col(WebhookDelivery.attempt), col(WebhookDelivery.id))).all())


# --- results of a document ---------------------------------------------------------------------


def tables(session: Session, document_id: str) -> list[TableRow]:
    return list(session.exec(select(TableRow).where(TableRow.document_id == document_id)
                             .order_by(col(TableRow.position))).all())


def document_table(session: Session, document_id: str, table_ref: str) -> TableRow | None:
    return session.exec(select(TableRow).where(TableRow.document_id == document_id,
                                               TableRow.ref == table_ref)).first()


def table_cells(session: Session, table_id: int | None) -> list[CellRow]:
    return list(session.exec(select(CellRow).where(CellRow.table_id == table_id)
                             .order_by(col(CellRow.row), col(CellRow.col))).all())


def table_kinds_and_forms(session: Session, document_id: str) -> list[tuple[str | None, str | None]]:
    rows = session.exec(select(TableRow.kind, TableRow.form).where(TableRow.document_id == document_id))
    return [(kind, form) for kind, form in rows.all()]


def records(session: Session, document_id: str, *, form: str | None = None, code: str | None = None,
            level: str | None = None, table_ref: str | None = None) -> list[RecordRow]:
    """The document's records in order, only those matching each filter given."""
    query = select(RecordRow).where(RecordRow.document_id == document_id)
    for column, value in ((RecordRow.form, form), (RecordRow.code, code), (RecordRow.level, level),
                          (RecordRow.table_ref, table_ref)):
        if value is not None:
            query = query.where(column == value)
    return list(session.exec(query.order_by(col(RecordRow.position))).all())


def findings(session: Session, document_id: str, severity: str | None = None) -> list[FindingRow]:
    query = select(FindingRow).where(FindingRow.document_id == document_id)
    if severity is not None:
        query = query.where(FindingRow.severity == severity)
    return list(session.exec(query.order_by(col(FindingRow.position))).all())


def finding_severities(session: Session, document_id: str) -> list[str]:
    """One severity per finding of the document (for counting)."""
    return list(session.exec(select(FindingRow.severity).where(FindingRow.document_id == document_id)).all())


def count_records(session: Session, document_id: str) -> int:
    return int(session.exec(select(func.count()).select_from(RecordRow)
                            .where(RecordRow.document_id == document_id)).one())


def count_tables(session: Session, document_id: str) -> int:
    return int(session.exec(select(func.count()).select_from(TableRow)
                            .where(TableRow.document_id == document_id)).one())


def count_corrections(session: Session, document_id: str) -> int:
    return int(session.exec(select(func.count()).select_from(CorrectionRow)
                            .where(CorrectionRow.document_id == document_id)).one())


def findings_by_severity(session: Session, document_id: str) -> dict[str, int]:
    rows = session.exec(select(FindingRow.severity, func.count())
                        .where(FindingRow.document_id == document_id)
                        .group_by(FindingRow.severity)).all()
    return {str(severity): int(n) for severity, n in rows}
