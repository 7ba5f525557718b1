"""Job runners. ``get_runner(settings)`` picks the embedded pool or Celery (RUNNER setting)."""

from __future__ import annotations

import importlib

from service.jobs.base import JobRunner
from service.settings import Settings


def get_runner(settings: Settings) -> JobRunner:
    if settings.runner == "celery":
        # Written separately and importing Celery is heavy: load it only when asked for.
        module = importlib.import_module("service.jobs.celery_runner")
        runner: JobRunner = module.CeleryRunner(settings)
        return runner
    from service.jobs.embedded import EmbeddedRunner

    return EmbeddedRunner(settings)


__all__ = ["JobRunner", "get_runner"]
