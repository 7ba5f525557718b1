"""Conversions and the cancel action shared by the routers (lookups: ``service.access``)."""

from __future__ import annotations

import logging

from sqlmodel import Session

from models import Document, Job
from service.db import as_utc
from service.jobs import lifecycle
from service.jobs.base import JobRunner
from service.logs import job_context
from service.schemas import DocumentOut, JobError, JobOut

log = logging.getLogger(__name__)


def cancel_job(session: Session, runner: JobRunner, job_id: str) -> bool:
    """Cancel an active job: the state moves (committed at once, the runners read it between pages),
    then the runner stops what it had scheduled. False when the job had already finished."""
    if not lifecycle.cancel(session, job_id):
        return False
    session.commit()
    with job_context(job_id):
        log.info("job cancelled")
    runner.cancel(job_id)
    return True


def job_out(job: Job) -> JobOut:
    error = JobError(code=job.error_code, message=job.error_message or "") if job.error_code else None
    return JobOut(job_id=job.id, document_id=job.document_id, state=job.state,
                  pages_done=job.pages_done, pages_total=job.pages_total, attempts=job.attempts,
                  created_at=as_utc(job.created_at), started_at=as_utc(job.started_at),
                  finished_at=as_utc(job.finished_at), error=error)


def document_out(document: Document, job_id: str | None) -> DocumentOut:
    return DocumentOut(document_id=document.id, filename=document.filename, sha256=document.sha256,
                       size=document.size, content_type=document.content_type, pages=document.pages,
                       status=document.status, job_id=job_id,
                       created_at=as_utc(document.created_at))
