"""Service configuration: environment variables prefixed ``FISCALOCR_`` (e.g. FISCALOCR_DATA_DIR).

Defaults run everything in one process on one machine: SQLite and files under ``./data`` and the
embedded worker pool. PostgreSQL and Celery are opt-in through DATABASE_URL and RUNNER.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FISCALOCR_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///DATA_DIR/fiscalocr.db. "
                          "PostgreSQL: postgresql+psycopg://user@host/db")
    runner: Literal["embedded", "celery"] = "embedded"
    redis_url: str = "redis://127.0.0.1:6379/0"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    max_concurrent_jobs: int | None = Field(None, ge=1, description="Jobs in progress at once")
    max_upload_bytes: int = Field(100 * MB, ge=1)
    max_json_bytes: int = Field(20 * MB, ge=1, description="Largest JSON body accepted by /v1/validate")
    max_pages: int = Field(500, ge=1)
    max_page_pixels: int = Field(60_000_000, ge=1)
    page_timeout_s: float = Field(120.0, gt=0)
    dpi: int = Field(300, ge=50, le=1200)
    engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    max_queued_jobs_per_tenant: int = Field(1000, ge=1, description="More queued jobs than this -> 429")
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fetch_timeout_s: float = Field(60.0, gt=0)
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    webhook_secret: str | None = None
    webhook_max_attempts: int = Field(5, ge=1, le=50)
    webhook_backoff_s: float = Field(2.0, gt=0)
    run_migrations: bool = Field(True, description="Run `alembic upgrade head` when the app starts")
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return value

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'fiscalocr.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def concurrent_jobs(self) -> int:
        return self.max_concurrent_jobs or self.workers


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (CLI flags, tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
