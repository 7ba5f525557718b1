"""Jobs: the stages, their context, the state owner and the embedded runner. Which runner runs
them is chosen by ``service.runners.get_runner`` (Celery lives outside this package: its app imports
the stages, so a runner inside would close an import circle)."""

from __future__ import annotations

from service.jobs.base import JobRunner
from service.jobs.context import JobContext

__all__ = ["JobContext", "JobRunner"]
