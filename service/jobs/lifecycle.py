"""The one owner of job and document state: every write of ``Job.state`` and ``Document.status``.

A document's status is its latest job's state. A job moves along ``TRANSITIONS`` only::

    queued ─────► running ─────► succeeded
    queued, running ───────────► failed | cancelled
    running ────► running        (a resumed job prepared again by another runner or worker)

A finished document gets a new job (``queued`` again) through ``requeue_document``. Each move is one
conditional UPDATE (``WHERE state IN (allowed sources)``), so two runners racing on the same job
cannot both win. The caller owns the transaction. ``tests/service/test_state_owner.py`` fails when
another module assigns either field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from models import Document, Job, JobState, utcnow
from service import repo

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.queued: frozenset({JobState.running, JobState.failed, JobState.cancelled}),
    JobState.running: frozenset({JobState.running, JobState.succeeded, JobState.failed, JobState.cancelled}),
    JobState.succeeded: frozenset(),
    JobState.failed: frozenset(),
    JobState.cancelled: frozenset(),
}
"""state -> the states a job may move to from it."""

ACTIVE: tuple[JobState, ...] = (JobState.queued, JobState.running)
"""A job in these states still has work to do (runners resume them on start)."""

RETRYABLE: tuple[JobState, ...] = (JobState.failed, JobState.cancelled)
"""A document whose latest job ended like this gets a new job when the same file comes again."""


def sources(target: JobState) -> tuple[JobState, ...]:
    """The states a job may be in to move to ``target``."""
    return tuple(state for state, targets in TRANSITIONS.items() if target in targets)


def is_active(state: str | None) -> bool:
    return state in {active.value for active in ACTIVE}


def move(session: Session, job_id: str, target: JobState, **values: Any) -> bool:
    """Move the job to ``target`` (with ``values`` for its other columns) and its document's status with
    it, if the job is in a state allowed to move there; False (nothing written) otherwise."""
    allowed = [state.value for state in sources(target)]
    result = session.execute(update(Job).where(col(Job.id) == job_id, col(Job.state).in_(allowed))
                             .values(state=target.value, **values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(update(Document).where(col(Document.id) == repo.job_document_id(session, job_id))
                    .values(status=target.value, updated_at=utcnow()))
    return True


def start(session: Session, job: Job) -> bool:
    """``queued``/``running`` -> ``running``: count one more attempt, keep the first start time."""
    return move(session, job.id, JobState.running, started_at=job.started_at or utcnow(),
                attempts=job.attempts + 1)


def cancel(session: Session, job_id: str) -> bool:
    """An active job -> ``cancelled`` (runners stop between pages)."""
    return move(session, job_id, JobState.cancelled, finished_at=utcnow())


def requeue_document(session: Session, document: Document) -> None:
    """The document got a new (queued) job: its status follows."""
    document.status = JobState.queued.value
    session.add(document)
