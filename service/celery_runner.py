"""The distributed JobRunner: the API process enqueues; Celery workers (``fiscalocr worker``) do the work.

The job row is the source of truth (persisted as ``queued`` before ``submit``), so a lost message
costs time, never a job: ``start`` re-submits every job still queued/running, and so does every
worker when it starts. Duplicate messages are harmless because the stages are idempotent.

``service.celery_app`` is imported inside the methods, on purpose: importing it imports Celery and
builds the Celery app from the environment's settings, which an API process on the embedded runner
never needs.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from models import Job
from service.jobs.context import JobContext

log = logging.getLogger(__name__)


class CeleryRunner:
    name = "celery"

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.settings = context.settings
        self._started = False

    def start(self) -> None:
        from service import celery_app

        celery_app.use_settings(self.settings)
        self._started = True
        try:
            resumed = celery_app.resume_pending(self.context)
        except Exception:  # the broker may be down now; workers re-submit when they start
            log.exception("could not re-submit pending jobs; workers will on their next start")
            resumed = 0
        log.info("celery runner started (%s), %d jobs re-submitted", self.settings.redis_url, resumed)

    def submit(self, job_id: str) -> None:
        """Enqueue ``start_job``; a broker outage is logged, not raised (the queued row is resumed later)."""
        from service import celery_app

        try:
            celery_app.submit_job(job_id)
        except Exception:
            log.exception("could not enqueue job %s; it stays queued until a runner or worker restarts",
                          job_id)

    def cancel(self, job_id: str) -> None:
        """Revoke the job's queued tasks (the caller marked it cancelled: pages check the state before
        starting, so revoking only saves work)."""
        from service import celery_app

        pages_total = self._pages_total(job_id)
        try:
            celery_app.app.control.revoke(celery_app.task_ids(job_id, pages_total))
        except Exception:  # revoking only saves work; the state check already stops the job
            log.warning("could not broadcast revoke for job %s", job_id, exc_info=True)

    def shutdown(self) -> None:
        self._started = False
        log.info("celery runner stopped (workers keep running)")

    def ready(self) -> bool:
        """The broker answers (readiness probe)."""
        if not self._started:
            return False
        from service import celery_app

        try:
            return bool(celery_app.redis_client().ping())
        except Exception:
            return False

    def _pages_total(self, job_id: str) -> int:
        with Session(self.context.engine) as session:
            job = session.get(Job, job_id)
            return job.pages_total if job is not None else 0
