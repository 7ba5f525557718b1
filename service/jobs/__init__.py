"""Job runners. ``get_runner(context)`` picks the embedded pool or Celery (RUNNER setting)."""

from __future__ import annotations

from service.jobs.base import JobRunner
from service.jobs.context import JobContext


def get_runner(context: JobContext) -> JobRunner:
    """The runner the settings name, running the stages with ``context``. Imported here, not at the
    top: ``service.jobs`` is also imported for its state owner and context alone, and the embedded
    runner brings the OCR pipeline with it."""
    if context.settings.runner == "celery":
        from service.jobs.celery_runner import CeleryRunner

        return CeleryRunner(context)
    from service.jobs.embedded import EmbeddedRunner

    return EmbeddedRunner(context)


__all__ = ["JobContext", "JobRunner", "get_runner"]
