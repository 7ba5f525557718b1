"""Batches: POST several files (multipart, repeated ``file`` parts) or several URLs (JSON) at once;
GET the batch for per-document progress and results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocr.errors import FiscalOCRError
from service.auth import Principal
from service.batches import MAX_ITEMS, batch_progress, receive_files, record_batch
from service.dbgate import DatabaseGate
from service.deps import (
    CallerDep,
    GateDep,
    PrincipalDep,
    ResolverDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from service.errors import ERROR_RESPONSES, ErrorBody, ErrorCode, ServiceError
from service.ingest import Ingested, ingest
from service.jobs.base import JobRunner
from service.remote_upload import download_upload
from service.settings import Settings
from service.storage import Storage
from service.uploads import ReceivedUpload

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)
UPLOAD_PATH = "/v1/batches"

_BATCH_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": MAX_ITEMS,
                 "description": "One part per document (PDF, PNG, JPEG or TIFF)"}}}},
}}}


class BatchUrls(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(min_length=1, max_length=MAX_ITEMS,
                            description="http(s) URLs; each is fetched as by POST /v1/documents/fetch")


_BATCH_BODY["requestBody"]["content"]["application/json"] = {"schema": BatchUrls.model_json_schema()}


class BatchItemError(BaseModel):
    code: str
    message: str


class BatchItemOut(BaseModel):
    position: int
    source: str = Field(description="File name or URL as submitted")
    document_id: str | None
    job_id: str | None
    state: str = Field(description="The job's state; 'refused' when the item was not taken (see error)")
    pages_done: int
    pages_total: int
    findings_by_severity: dict[str, int]
    error: BatchItemError | None


class BatchOut(BaseModel):
    batch_id: str
    created_at: datetime
    total: int
    states: dict[str, int]
    finished: bool = Field(description="Every item succeeded, failed, was cancelled or refused")
    pages_done: int
    pages_total: int
    items: list[BatchItemOut]


@router.post("", status_code=202, response_model=BatchOut, openapi_extra=_BATCH_BODY,
             responses={413: {"model": ErrorBody, "description": "A file or the batch is too large"},
                        415: {"model": ErrorBody, "description": "Neither multipart nor JSON"},
                        422: {"model": ErrorBody, "description": "No file / no URL (batch_empty)"}})
async def create_batch(*, request: Request, principal: CallerDep, gate: GateDep, storage: StorageDep,
                       runner: RunnerDep, settings: SettingsDep, resolver: ResolverDep) -> BatchOut:
    """Submit several documents at once: repeated multipart ``file`` parts, or ``{"urls": [...]}``.
    Each becomes a document and a job as if sent alone; one that cannot be taken (empty, not a
    PDF/image, an address the service may not contact) is listed with its error code."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    outcomes: list[tuple[str, Ingested | ServiceError]] = []
    intake = _Intake(gate, storage, runner, settings, principal)
    if media_type == "multipart/form-data":
        for received in await receive_files(request, storage, settings.max_upload_bytes):
            source = received.filename if isinstance(received, ReceivedUpload) else "(refused file)"
            outcomes.append((source, await intake.take(received)))
    elif media_type == "application/json":
        for url in await _urls(request, settings.max_json_bytes):
            try:
                received = await download_upload(url, storage, settings, resolver)
            except (ServiceError, FiscalOCRError) as exc:
                outcomes.append((url, _as_service_error(exc)))
                continue
            outcomes.append((url, await intake.take(received)))
    else:
        raise ServiceError(ErrorCode.unsupported_media_type,
                           "send multipart/form-data (file parts) or JSON {urls}",
                           status=415)
    batch = await gate.run(lambda session: record_batch(session, principal, outcomes))
    return BatchOut(**await gate.run(lambda session: batch_progress(session, principal, batch.id)))


@router.get("/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: str, principal: PrincipalDep, session: SessionDep) -> BatchOut:
    """Per-document progress (pages done / total, job state) and results (findings by severity)."""
    return BatchOut(**batch_progress(session, principal, batch_id))


async def _urls(request: Request, limit: int) -> list[str]:
    body = await request.body()
    if len(body) > limit:
        raise ServiceError(ErrorCode.payload_too_large,
                           f"body exceeds {limit} bytes", detail={"limit": limit})
    try:
        return BatchUrls.model_validate(json.loads(body or b"null")).urls
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError) and any(e["type"] == "too_long" for e in exc.errors()):
            raise ServiceError(ErrorCode.batch_too_large, f"at most {MAX_ITEMS} URLs per batch",
                               detail={"limit": MAX_ITEMS}) from exc
        raise ServiceError(ErrorCode.batch_empty, "send {\"urls\": [one or more http(s) URLs]}") from exc


def _as_service_error(exc: ServiceError | FiscalOCRError) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    return ServiceError(ErrorCode.of(exc.code), exc.message)


@dataclass(frozen=True)
class _Intake:
    """What ingesting one item needs (the same for every item of a batch)."""

    gate: DatabaseGate
    storage: Storage
    runner: JobRunner
    settings: Settings
    principal: Principal

    async def take(self, received: ReceivedUpload | ServiceError) -> Ingested | ServiceError:
        if isinstance(received, ServiceError):
            return received
        try:
            return await self.gate.run(lambda session: ingest(
                session, self.storage, self.runner, self.settings, self.principal, upload=received,
                callback_url=None))
        except ServiceError as exc:  # e.g. too_many_jobs: this item waits, the others are kept
            return exc
