"""Choose the job runner the settings name: the embedded process pool or Celery."""

from __future__ import annotations

from service.jobs.base import JobRunner
from service.jobs.context import JobContext


def get_runner(context: JobContext) -> JobRunner:
    """The runner the settings name, running the stages with ``context``. Imported here, not at the
    top: the embedded runner brings the OCR pipeline with it and the Celery one brings Celery."""
    if context.settings.runner == "celery":
        from service.celery_runner import CeleryRunner

        return CeleryRunner(context)
    from service.jobs.embedded import EmbeddedRunner

    return EmbeddedRunner(context)
