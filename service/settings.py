"""Service configuration: environment variables prefixed ``FISCALOCR_`` (e.g. FISCALOCR_DATA_DIR).

Defaults run everything in one process on one machine: SQLite and files under ``./data`` and the
embedded worker pool. PostgreSQL and Celery are opt-in through DATABASE_URL and RUNNER.

Every setting of the service, the Celery workers and the webhook/fetch code is declared here, once
(``fiscalocr settings`` lists them with their descriptions and current values).
"""

from __future__ import annotations

import os
import re
import shlex
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MB = 1024 * 1024
_PLAIN_RE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FISCALOCR_", extra="ignore")

    # -- storage, database, runner ----------------------------------------------------------------
    data_dir: Path = Field(Path("./data"), description="SQLite database (default) and stored files")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///DATA_DIR/fiscalocr.db. "
                          "PostgreSQL: postgresql+psycopg://user@host/db")
    runner: Literal["embedded", "celery"] = Field(
        "embedded", description="embedded: page workers inside `fiscalocr serve`; "
                                "celery: separate `fiscalocr worker` processes")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker (RUNNER=celery)")
    run_migrations: bool = Field(True, description="Run `alembic upgrade head` when the app starts")

    # -- HTTP API concurrency (see service/dbgate.py) ------------------------------------------------
    # 16, not 40: on the steady soak (200 clients, 2 cores) 16 threads served as many requests (35,110 vs
    # 31,520-37,932) with memory flat from the first minute (+0.25 MB/min); with 40 each rare peak of
    # concurrency raised the allocators' high-water mark a little further (+0.34 to +0.68 MB/min over five
    # minutes, level only after about five). docs/benchmarks.md, soak memory.
    api_threads: int = Field(16, ge=1, le=1000,
                             description="Worker threads for sync endpoints (anyio's thread limiter); also "
                                         "the database pool's size unless DB_POOL_SIZE is set")
    malloc_arenas: int = Field(2, ge=1, le=64,
                               description="glibc malloc arenas of the API process (each keeps its own free "
                                           "memory; the GIL runs one thread at a time)")
    db_pool_size: int | None = Field(
        None, ge=1, le=1000, description="Connections of the API's pool, and so requests using the "
                                         "database at once; default API_THREADS")
    db_pool_timeout_s: float = Field(
        10.0, gt=0, description="A request waiting longer than this for a database slot gets "
                                "503 service_busy")

    # -- OCR jobs --------------------------------------------------------------------------------
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256,
                         description="Page worker processes (embedded) / default worker concurrency")
    max_concurrent_jobs: int | None = Field(None, ge=1, description="Jobs in progress at once")
    max_upload_bytes: int = Field(100 * MB, ge=1)
    max_json_bytes: int = Field(20 * MB, ge=1, description="Largest JSON body accepted by /v1/validate")
    max_pages: int = Field(500, ge=1)
    max_page_pixels: int = Field(60_000_000, ge=1)
    page_timeout_s: float = Field(120.0, gt=0)
    dpi: int = Field(300, ge=50, le=1200)
    engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    lexicon: bool = Field(True, description="Correct one misread character in known labels (kept in read_as)")
    ocr_mode: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: a PDF page's text layer where it is trustworthy, OCR elsewhere; "
                            "always: OCR every page; never: text layers only. An upload's `ocr` field "
                            "overrides it")
    trust_invisible_text: bool = Field(False, description="Read an invisible text layer over a scanned page "
                                                          "(another tool's OCR) instead of OCR'ing the image")
    max_queued_jobs_per_tenant: int = Field(1000, ge=1, description="More queued jobs than this -> 429")
    max_renders_per_tenant: int = Field(
        2, ge=1, le=100, description="Page images rendered at once for one tenant; more -> 429")

    # -- hostile clients (service/guard.py, service/server.py) ---------------------------------------
    header_timeout_s: float = Field(
        10.0, gt=0, description="Request line and headers must arrive within this")
    keep_alive_timeout_s: int = Field(
        75, ge=1, description="An idle keep-alive connection is closed after this. Keep it longer than "
                                "clients and proxies keep idle connections (httpx 5 s, nginx upstream 60 s): "
                                "the side that closes second races a request sent as the first one closes")
    body_timeout_s: float = Field(30.0, gt=0, description="Longest pause while a request body arrives -> 408")
    drain_max_bytes: int = Field(
        160 * MB, ge=0, description="Unread body discarded before an early answer (401, 413) so the client "
                                    "gets it instead of a reset")
    drain_timeout_s: float = Field(30.0, ge=0, description="Longest time spent discarding such a body")

    # -- Celery (RUNNER=celery) ------------------------------------------------------------------
    celery_queue: str = Field("fiscalocr", description="Queue the workers consume")
    celery_key_prefix: str = Field("", description="Prefix for every Redis key (isolates deployments/tests)")
    celery_visibility_timeout_s: int = Field(
        900, ge=5, description="Unacked messages of a vanished worker are re-delivered after this. "
                               "Must exceed the longest task and the longest retry countdown.")
    celery_restore_interval_s: int = Field(10, ge=1, description="How often workers look for such messages")
    celery_lease_s: int = Field(30, ge=3, description="A page's lease lapses this long after its worker dies")
    celery_resume_on_start: bool = Field(True, description="A starting worker re-submits jobs left "
                                                           "queued/running")
    celery_transient_retries: int = Field(5, ge=0, description="Retries of a stage after a database or "
                                                               "broker error")

    # -- Fetching documents from URLs (POST /v1/documents/fetch) and webhook targets --------------
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated host names that may resolve to private or "
                                          "loopback addresses (documents and webhooks); "
                                          "all others must resolve to public addresses")
    fetch_timeout_s: float = Field(60.0, gt=0, description="Whole download, all redirects")
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    fetch_max_bytes: int | None = Field(None, ge=1, description="Largest download; default MAX_UPLOAD_BYTES")

    # -- Webhooks (callback_url) -----------------------------------------------------------------
    webhook_secret: str | None = Field(
        None, description="HMAC key signing every webhook; without it, callback_url is refused (422)")
    webhook_max_attempts: int = Field(5, ge=1, le=50)
    webhook_backoff_s: float = Field(2.0, gt=0, description="Delay before the 2nd attempt; doubles after")
    webhook_backoff_max_s: float = Field(300.0, gt=0, description="Longest delay between attempts")
    webhook_timeout_s: float = Field(10.0, gt=0, description="Per attempt")

    # -- Review page (/review) -------------------------------------------------------------------
    session_secret: str | None = Field(
        None, description="HMAC key signing review-page session cookies; default: a random key kept in "
                          "DATA_DIR/review-session.key (set it when several API hosts share sessions)")
    session_ttl_s: int = Field(8 * 3600, ge=60, le=30 * 24 * 3600, description="A review session expires "
                                                                               "this long after sign-in")
    session_cookie_secure: bool | None = Field(
        None, description="Mark the session cookie Secure; default: when the request came over https")

    # -- logging ---------------------------------------------------------------------------------
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

    @property
    def pool_size(self) -> int:
        return self.db_pool_size or self.api_threads


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (CLI flags, tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]


def describe(settings: Settings) -> list[str]:
    """The settings as an env file to paste (``source`` it, or ``--env-file``): each setting's description
    as a comment, then ``FISCALOCR_NAME=value``. Unset optional settings and secrets are commented out."""
    lines = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        variable = f"FISCALOCR_{name.upper()}"
        if field.description:
            lines.append(f"# {field.description}")
        if name.endswith("secret") and value:
            lines.append(f"# {variable}=...  (set; not shown)")
        elif value is None:
            lines.append(f"# {variable}=")
        else:
            lines.append(f"{variable}={env_value(value)}")
    return lines


def env_value(value: object) -> str:
    """A setting's value as its environment variable spells it (shell-quoted only where needed)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list | tuple):
        text = ",".join(str(item) for item in value)
    else:
        text = str(value)
    return shlex.quote(text) if text and not _PLAIN_RE.match(text) else text
