"""The persistent model. Flexible parts (bboxes, record values, page results) are JSON columns.

Results (tables, cells, records, findings) belong to a document and are replaced as a whole
when a job finishes or a correction is applied; ``job_id`` on them records which job made them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex



def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


def _optional_timestamp() -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True))


def _json(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.succeeded, JobState.failed, JobState.cancelled)


class Tenant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = _timestamp()


class ApiKey(SQLModel, table=True):
    """Only the SHA-256 of the key is stored; the key itself is shown once, at creation."""

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=200)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16, description="First characters of the key, to recognise it in lists")
    created_at: datetime = _timestamp()
    revoked_at: datetime | None = _optional_timestamp()


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "sha256", name="uq_document_tenant_sha256"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    filename: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=BigInteger)
    content_type: str = Field(max_length=100)
    storage_key: str = Field(max_length=300)
    pages: int | None = None
    status: str = Field(default=JobState.queued.value, max_length=20)
    page_info: list[dict[str, Any]] = _json(list)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Job(SQLModel, table=True):
    __table_args__ = (Index("ix_job_state", "state"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    state: str = Field(default=JobState.queued.value, max_length=20)
    pages_done: int = 0
    pages_total: int = 0
    options: dict[str, Any] = _json(dict)
    attempts: int = 0
    error_code: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_type=Text)
    callback_url: str | None = Field(default=None, max_length=2048)
    created_at: datetime = _timestamp()
    started_at: datetime | None = _optional_timestamp()
    finished_at: datetime | None = _optional_timestamp()
    duration_s: float | None = None


class PageResultRow(SQLModel, table=True):
    """One page's OCR output (``ocr.pipeline.PageResult`` as JSON), stored as soon as it is read,
    so any worker can resume a job and ``finalize`` can assemble it."""

    __tablename__ = "pageresult"
    __table_args__ = (UniqueConstraint("job_id", "page_number", name="uq_pageresult_job_page"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="job.id", index=True, max_length=32)
    page_number: int
    data: dict[str, Any] = _json(dict)
    ocr_seconds: float = 0.0
    created_at: datetime = _timestamp()


class TableRow(SQLModel, table=True):
    __tablename__ = "table"
    __table_args__ = (UniqueConstraint("document_id", "ref", name="uq_table_document_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    job_id: str = Field(max_length=32)
    ref: str = Field(max_length=50, description="The contract's table id (t0, t1, ...)")
    position: int = Field(description="Order of the table in the document")
    page: int
    kind: str | None = Field(default=None, max_length=100)
    form: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, sa_type=Text)
    unit: str | None = Field(default=None, max_length=50)
    department: str | None = Field(default=None, sa_type=Text)
    n_rows: int
    n_cols: int
    bbox: list[int] = _json(list)
    continues: str | None = Field(default=None, max_length=50)
    notes: list[str] = _json(list)


class CellRow(SQLModel, table=True):
    __tablename__ = "cell"

    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(foreign_key="table.id", index=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1
    text: str = Field(default="", sa_type=Text)
    confidence: float = 1.0
    bbox: list[int] = _json(list)
    corrected: bool = False
    source: str | None = Field(default=None, max_length=8)  # "text" (PDF text layer) or "ocr"
    read_as: str | None = Field(default=None, sa_type=Text)  # the recogniser's reading, when corrected


class RecordRow(SQLModel, table=True):
    """A contract Record; ``data`` holds it whole, the other columns are for filtering."""

    __tablename__ = "record"

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    position: int
    table_ref: str = Field(max_length=50)
    form: str | None = Field(default=None, max_length=200, index=True)
    kind: str | None = Field(default=None, max_length=100)
    code: str | None = Field(default=None, max_length=100, index=True)
    level: str | None = Field(default=None, max_length=20)
    data: dict[str, Any] = _json(dict)


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    position: int
    rule: str = Field(max_length=100)
    severity: str = Field(max_length=20)
    table_ref: str | None = Field(default=None, max_length=50)
    data: dict[str, Any] = _json(dict)


class CorrectionRow(SQLModel, table=True):
    """A reviewer's change to one cell's text (the audit trail; never deleted with recomputation)."""

    __tablename__ = "correction"

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    cell_id: int
    table_ref: str = Field(max_length=50)
    row: int
    col: int
    old_text: str = Field(sa_type=Text)
    new_text: str = Field(sa_type=Text)
    who: str = Field(max_length=200)
    created_at: datetime = _timestamp()


class WebhookDelivery(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="job.id", index=True, max_length=32)
    url: str = Field(max_length=2048)
    attempt: int = 1
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _timestamp()
    finished_at: datetime | None = _optional_timestamp()


class Approval(SQLModel, table=True):
    """A reviewer signed off one table (``table_ref``) or the whole document (``table_ref`` empty).
    Stale once a correction is newer than ``created_at`` (the review state is derived, not stored)."""

    __table_args__ = (UniqueConstraint("document_id", "table_ref", name="uq_approval_document_table"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    table_ref: str = Field(default="", max_length=50, description="'' for the whole document")
    who: str = Field(max_length=200)
    created_at: datetime = _timestamp()


class ReviewSession(SQLModel, table=True):
    """A signed-in reviewer of the web page. The cookie carries the session id (signed); only its
    SHA-256 is stored, so a leaked database row cannot be replayed as a cookie."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    api_key_id: int = Field(foreign_key="apikey.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    ended_at: datetime | None = _optional_timestamp()


class Batch(SQLModel, table=True):
    """Several documents submitted together (POST /v1/batches); progress is read from their jobs."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    created_at: datetime = _timestamp()


class BatchItem(SQLModel, table=True):
    """One file or URL of a batch: the document it became, or why it was refused."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(foreign_key="batch.id", index=True, max_length=32)
    position: int
    source: str = Field(max_length=4096, description="File name or URL as submitted")
    document_id: str | None = Field(default=None, max_length=32)
    job_id: str | None = Field(default=None, max_length=32)
    error_code: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_type=Text)
