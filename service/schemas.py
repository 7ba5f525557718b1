"""Request and response bodies of the HTTP API (the contract's models are reused where they fit).

Bodies that show one database row are built from it (``Model.model_validate(row)``, ``from_attributes``):
a field named differently from its column says which column it reads (``validation_alias``), which
leaves the JSON and the OpenAPI document (serialization schemas) as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ocr.contract import Extraction, Finding, Record, Table
from service.db import as_utc
from service.results import cell_source
from service.text_safety import unsafe_characters

UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A stored time (SQLite hands back naive ones; every stored time is UTC)."""


class FromRow(BaseModel):
    """A response body read from a database row's attributes (or built by field name)."""

    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)


class UploadAccepted(BaseModel):
    document_id: str
    job_id: str
    duplicate: bool


class FetchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=4096, description="http(s) URL of the PDF/PNG/JPEG/TIFF")
    callback_url: str | None = Field(None, max_length=2048,
                                     description="Webhook called when the job finishes")
    ocr: Literal["auto", "always", "never"] | None = Field(
        None, description="Text layer or OCR per page (default: the server's FISCALOCR_OCR_MODE)")


class WebhookDeliveryOut(BaseModel):
    attempt: int
    url: str
    status_code: int | None = Field(description="The receiver's HTTP status; null if none was received")
    error: str | None = Field(description="null when delivered")
    delivered: bool
    started_at: datetime
    finished_at: datetime | None


class WebhookDeliveryList(BaseModel):
    job_id: str
    callback_url: str | None
    deliveries: list[WebhookDeliveryOut]


class JobError(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    job_id: str
    document_id: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    pages_done: int
    pages_total: int
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: JobError | None


class DocumentOut(BaseModel):
    document_id: str
    filename: str
    sha256: str
    size: int
    content_type: str
    pages: int | None
    status: str
    job_id: str | None
    created_at: datetime


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class DocumentSummary(BaseModel):
    tables: int
    tables_by_kind: dict[str, int]
    tables_by_form: dict[str, int]
    records: int
    findings_by_severity: dict[str, int]
    corrections: int


class DocumentDetail(DocumentOut):
    job: JobOut | None
    summary: DocumentSummary


class TableOut(FromRow):
    table_id: str = Field(validation_alias="ref")
    page: int
    kind: str | None
    form: str | None
    title: str | None
    unit: str | None
    department: str | None
    n_rows: int
    n_cols: int
    bbox: list[int]
    continues: str | None
    notes: list[str]


class CellOut(FromRow):
    cell_id: int = Field(validation_alias="id")
    row: int
    col: int
    row_span: int
    col_span: int
    text: str
    confidence: float
    bbox: list[int]
    corrected: bool
    source: Literal["text", "ocr"] | None = Field(
        None, description="text: read from the PDF's text layer; ocr: recognised from the page image")
    read_as: str | None = Field(None, description="The recogniser's own reading, when a vocabulary "
                                                  "correction changed the text")

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, value: str | None) -> str | None:
        return cell_source(value)


class TableDetail(TableOut):
    cells: list[CellOut]


class TableList(BaseModel):
    tables: list[TableOut]


class RecordList(BaseModel):
    records: list[Record]


class FindingList(BaseModel):
    findings: list[Finding]


class CellPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=1000, description="The corrected text of the cell (no control or "
                                                    "bidirectional-control characters)")

    @field_validator("text")
    @classmethod
    def _printable(cls, value: str) -> str:
        bad = unsafe_characters(value)
        if bad:
            raise ValueError(f"control characters are not allowed: {', '.join(bad)}")
        return value


class CorrectionOut(FromRow):
    correction_id: int = Field(validation_alias="id")
    cell_id: int
    table_id: str = Field(validation_alias="table_ref")
    row: int
    col: int
    old: str = Field(validation_alias="old_text")
    new: str = Field(validation_alias="new_text")
    who: str
    at: UtcDatetime = Field(validation_alias="created_at")


class CellPatched(BaseModel):
    cell: CellOut
    correction: CorrectionOut
    records: int
    findings_by_severity: dict[str, int]


class TablesOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[Table]


class ValidateResult(BaseModel):
    records: list[Record]
    findings: list[Finding]


ValidateBody = TablesOnly | Extraction
