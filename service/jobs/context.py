"""What the job stages work with, passed to them explicitly.

The runner that runs the stages builds one: the API process for its embedded runner or Celery
runner (``create_app``), each page-worker process from the settings it was started with
(``service.jobs.embedded``), each Celery worker process from the Celery app's settings
(``service.celery_app``). Nothing is read from the environment behind the caller's back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.db import make_engine
from service.settings import Settings
from service.storage import LocalStorage, Storage


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    engine: Engine
    storage: Storage

    @classmethod
    def from_settings(cls, settings: Settings, storage: Storage | None = None) -> JobContext:
        """A context with an engine of its own (not the API's request pool) and the settings' storage."""
        return cls(settings, make_engine(settings.db_url), storage or LocalStorage(settings.files_dir))
