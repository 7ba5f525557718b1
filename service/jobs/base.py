"""The job runner interface. Two implementations share the same stage functions
(``service.jobs.stages``): the embedded in-process pool and Celery on Redis.

A job is persisted (state ``queued``) before ``submit`` is called, so a runner
that dies loses nothing: on start it re-submits every job still queued/running.
"""

from __future__ import annotations

from typing import Protocol


class JobRunner(Protocol):
    name: str

    def start(self) -> None:
        """Begin taking work; resume jobs left queued or running by a previous process."""

    def submit(self, job_id: str) -> None:
        """Schedule a persisted job. Must return quickly (never runs OCR on the caller's thread)."""

    def cancel(self, job_id: str) -> None:
        """Ask for a job to stop; pages not yet started are not processed."""

    def shutdown(self) -> None:
        """Stop taking work and wait briefly for running pages."""
