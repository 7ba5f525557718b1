"""Job status polling and cancellation."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session

from models import Job
from service import repo
from service.access import tenant_job
from service.api.common import cancel_job as cancel_active_job
from service.api.common import job_out
from service.db import as_utc
from service.deps import PrincipalDep, RunnerDep, SessionDep
from service.errors import ERROR_RESPONSES, ErrorBody, ErrorCode, ServiceError
from service.schemas import JobOut, WebhookDeliveryList, WebhookDeliveryOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, principal: PrincipalDep, session: SessionDep) -> JobOut:
    """State and per-page progress; ``error`` carries a stable code when the job failed."""
    return job_out(tenant_job(session, principal, job_id))


@router.post("/{job_id}/cancel", status_code=202, response_model=JobOut,
             responses={409: {"model": ErrorBody, "description": "The job already finished"}})
def cancel_job(job_id: str, principal: PrincipalDep, session: SessionDep, runner: RunnerDep) -> JobOut:
    """Stop a queued or running job; pages not started yet are not processed."""
    job = tenant_job(session, principal, job_id)
    if not cancel_active_job(session, runner, job.id):
        raise ServiceError(ErrorCode.job_finished, f"job {job.id} already finished ({_state(session, job)})",
                           detail={"state": _state(session, job)})
    session.expire_all()
    return job_out(tenant_job(session, principal, job_id))


@router.get("/{job_id}/deliveries", response_model=WebhookDeliveryList)
def list_deliveries(job_id: str, principal: PrincipalDep, session: SessionDep) -> WebhookDeliveryList:
    """The job's webhook delivery log: one entry per attempt, oldest first."""
    job = tenant_job(session, principal, job_id)
    rows = repo.deliveries(session, job.id)
    deliveries = [WebhookDeliveryOut(attempt=row.attempt, url=row.url, status_code=row.status_code,
                                     error=row.error, delivered=row.error is None,
                                     started_at=as_utc(row.created_at) or row.created_at,
                                     finished_at=as_utc(row.finished_at))
                  for row in rows]
    return WebhookDeliveryList(job_id=job.id, callback_url=job.callback_url, deliveries=deliveries)


def _state(session: Session, job: Job) -> str:
    session.refresh(job)
    return job.state
