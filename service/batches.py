"""Batches: several files (one multipart body) or several URLs submitted at once. Each item is
ingested like a single upload (sniffed, deduplicated, one job); an item that cannot be taken
(not a PDF/image, empty, a refused URL) is recorded with its error code instead of failing the rest.
Progress is read from the items' jobs."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session, col, select
from starlette.requests import ClientDisconnect, Request

from models import Batch, BatchItem, FindingRow, JobState
from service.auth import Principal
from service.errors import ErrorCode, ServiceError, not_found
from service.ingest import Ingested
from service.repo import latest_job
from service.storage import Storage
from service.uploads import (
    FILE_FIELD,
    ReceivedUpload,
    check_declared_length,
    clean_filename,
    sniff_content_type,
    too_large,
)

MAX_ITEMS = 50
_ENDED = {*(state.value for state in JobState if state.terminal), "refused"}  # an item needs no more work
_SNIFF_BYTES = 1024


@dataclass
class _FilePart:
    path: Path
    filename: str
    handle: BinaryIO
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)


class _BatchForm:
    """python-multipart callbacks: every ``file`` part streams to a temp file of its own."""

    def __init__(self, storage: Storage, max_bytes: int) -> None:
        self.storage, self.max_bytes = storage, max_bytes
        self.files: list[_FilePart] = []
        self.current: _FilePart | None = None
        self.headers: dict[str, bytes] = {}
        self.name, self.value = bytearray(), bytearray()

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self._begin,
                "on_header_field": lambda d, s, e: self.name.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self.value.extend(d[s:e]),
                "on_header_end": self._header_end, "on_headers_finished": self._headers_done,
                "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self.headers, self.current = {}, None

    def _header_end(self) -> None:
        self.headers[self.name.decode("latin-1").lower()] = bytes(self.value)
        self.name.clear()
        self.value.clear()

    def _headers_done(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition", b""))
        if options.get(b"name", b"").decode("utf-8", "replace") != FILE_FIELD:
            return  # other fields are ignored
        if len(self.files) >= MAX_ITEMS:
            raise ServiceError(ErrorCode.batch_too_large, f"at most {MAX_ITEMS} files per batch",
                               detail={"limit": MAX_ITEMS})
        raw = options.get(b"filename")
        path = self.storage.temp_path()
        self.current = _FilePart(path, clean_filename(raw.decode("utf-8", "replace") if raw else None),
                                 path.open("wb"))
        self.files.append(self.current)

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self.current
        if part is None:
            return
        chunk = data[start:end]
        part.size += len(chunk)
        if part.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if len(part.head) < _SNIFF_BYTES:
            part.head.extend(chunk[: _SNIFF_BYTES - len(part.head)])
        part.digest.update(chunk)
        part.handle.write(chunk)

    def _end(self) -> None:
        if self.current is not None:
            self.current.handle.close()

    def discard(self) -> None:
        for part in self.files:
            part.handle.close()
            part.path.unlink(missing_ok=True)


async def receive_files(request: Request, storage: Storage,
                        max_bytes: int) -> list[ReceivedUpload | ServiceError]:
    """Each ``file`` part as an upload, or the error that refuses it (empty, not a PDF/image)."""
    check_declared_length(request, max_bytes * MAX_ITEMS)
    _, options = parse_options_header(request.headers.get("content-type", ""))
    form = _BatchForm(storage, max_bytes)
    try:
        parser = MultipartParser(options.get(b"boundary", b""), form.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        form.discard()
        raise ServiceError(ErrorCode.bad_request, f"malformed multipart body: {exc}") from exc
    except ClientDisconnect as exc:
        form.discard()
        raise ServiceError(ErrorCode.bad_request, "client disconnected during upload") from exc
    except BaseException:
        form.discard()
        raise
    if not form.files:
        raise ServiceError(ErrorCode.batch_empty, "send one or more multipart parts named 'file'")
    return [_vet(part) for part in form.files]


def _vet(part: _FilePart) -> ReceivedUpload | ServiceError:
    content_type = sniff_content_type(bytes(part.head))
    if part.size == 0 or content_type is None:
        part.path.unlink(missing_ok=True)
        if part.size == 0:
            return ServiceError(ErrorCode.document_empty, "the uploaded file is empty")
        return ServiceError(ErrorCode.unsupported_format, "only PDF, PNG, JPEG and TIFF files are accepted")
    return ReceivedUpload(part.path, part.filename, part.size, part.digest.hexdigest(), content_type)


def record_batch(session: Session, principal: Principal,
                 outcomes: list[tuple[str, Ingested | ServiceError]]) -> Batch:
    """Store the batch and one item per source (the document it became, or its error)."""
    batch = Batch(tenant_id=principal.tenant_id)
    session.add(batch)
    session.flush()
    for position, (source, outcome) in enumerate(outcomes):
        item = BatchItem(batch_id=batch.id, position=position, source=source[:4096])
        if isinstance(outcome, ServiceError):
            item.error_code, item.error_message = outcome.code.value, outcome.message
        else:
            item.document_id, item.job_id = outcome.document_id, outcome.job_id
        session.add(item)
    session.commit()
    return batch


def batch_progress(session: Session, principal: Principal, batch_id: str) -> dict[str, Any]:
    batch = session.exec(select(Batch).where(Batch.id == batch_id,
                                             Batch.tenant_id == principal.tenant_id)).first()
    if batch is None:
        raise not_found("batch", batch_id)
    items = session.exec(select(BatchItem).where(BatchItem.batch_id == batch.id)
                         .order_by(col(BatchItem.position))).all()
    views = [_item_view(session, item) for item in items]
    states = Counter(v["state"] for v in views)
    return {"batch_id": batch.id, "created_at": batch.created_at, "items": views,
            "total": len(views), "states": dict(states),
            "finished": all(v["state"] in _ENDED for v in views),
            "pages_done": sum(v["pages_done"] for v in views),
            "pages_total": sum(v["pages_total"] for v in views)}


def _item_view(session: Session, item: BatchItem) -> dict[str, Any]:
    base: dict[str, Any] = {"position": item.position, "source": item.source, "document_id": item.document_id,
                            "job_id": item.job_id, "state": "refused", "pages_done": 0, "pages_total": 0,
                            "findings_by_severity": {}, "error": None}
    if item.error_code:
        return base | {"error": {"code": item.error_code, "message": item.error_message or ""}}
    job = latest_job(session, item.document_id or "")
    if job is None:  # the document was deleted since
        return base | {"state": "deleted"}
    severities = Counter(session.exec(select(FindingRow.severity)
                                      .where(FindingRow.document_id == item.document_id)))
    error = {"code": job.error_code, "message": job.error_message or ""} if job.error_code else None
    return base | {"job_id": job.id, "state": job.state, "pages_done": job.pages_done,
                   "pages_total": job.pages_total, "findings_by_severity": dict(severities), "error": error}
