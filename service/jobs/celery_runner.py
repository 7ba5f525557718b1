"""The distributed JobRunner: the API process enqueues; Celery workers (``fiscalocr worker``) do the work.

The job row is the source of truth (persisted as ``queued`` before ``submit``), so a lost message
costs time, never a job: ``start`` re-submits every job still queued/running, and so does every
worker when it starts. Duplicate messages are harmless because the stages are idempotent.
"""

from __future__ import annotations

import logging

from service.jobs import stages
from service.settings import Settings

log = logging.getLogger(__name__)


class CeleryRunner:
    name = "celery"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._started = False

    def start(self) -> None:
        stages.configure(self.settings)
        from service import celery_app

        celery_app.use_settings(self.settings)
        self._started = True
        try:
            resumed = celery_app.resume_pending()
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
        """Mark the job cancelled (pages check the state before starting) and revoke its queued tasks."""
        from service import celery_app

        stages.cancel(job_id)
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
        from sqlmodel import Session

        from models import Job

        with Session(stages.context().engine) as session:
            job = session.get(Job, job_id)
            return job.pages_total if job is not None else 0
