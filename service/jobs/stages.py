"""Pipeline stages shared by every runner (embedded pool, Celery): prepare -> run_page* -> finalize.

Each stage takes the runner's ``JobContext`` (settings, database engine, storage), opens its own
session, is safe to repeat, and reads the job's state from the database before working, so a
cancelled or finished job is left alone and a resumed job only redoes what is missing. State moves go
through ``service.jobs.lifecycle``. ``finalize`` and ``fail`` return True when they ended the job:
the runner then does what follows a finished job (webhooks).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from fiscal.lexicon import fiscal_lexicon
from models import Document, Job, JobState, PageResultRow, utcnow
from ocr import pipeline
from ocr.contract import PageInfo, Table
from ocr.errors import FiscalOCRError, TooManyPagesError
from ocr.source import OCR_MODES, OcrMode
from service import fiscal_bridge, repo, results, yearly
from service.db import as_utc, session_scope
from service.jobs import lifecycle
from service.jobs.context import JobContext
from service.logs import job_context
from service.settings import Settings

log = logging.getLogger(__name__)


def extract_options(job: Job, settings: Settings) -> pipeline.ExtractOptions:
    return pipeline.ExtractOptions(
        engine=str(job.options.get("engine", settings.engine)),
        dpi=int(job.options.get("dpi", settings.dpi)),
        max_pages=settings.max_pages,
        max_page_pixels=settings.max_page_pixels,
        page_timeout_s=settings.page_timeout_s,
        lexicon=fiscal_lexicon() if settings.lexicon else None,
        ocr=_ocr_mode(job.options.get("ocr", settings.ocr_mode)),
        trust_invisible_text=settings.trust_invisible_text,
    )


def _ocr_mode(value: object) -> OcrMode:
    for mode in OCR_MODES:
        if value == mode:
            return mode
    return "auto"


def pending_jobs(ctx: JobContext) -> list[str]:
    """Jobs a starting runner must (re)submit, oldest first."""
    with Session(ctx.engine) as session:
        return repo.job_ids_in_states(session, lifecycle.ACTIVE)


def job_state(ctx: JobContext, job_id: str) -> str | None:
    with Session(ctx.engine) as session:
        return repo.job_state(session, job_id)


def prepare(ctx: JobContext, job_id: str) -> list[int] | None:
    """Mark the job running and count its pages; return the pages still to read (None: nothing to do)."""
    with job_context(job_id), session_scope(ctx.engine) as session:
        job = session.get(Job, job_id)
        if job is None or not lifecycle.is_active(job.state):
            return None
        document = session.get(Document, job.document_id)
        if document is None or not lifecycle.start(session, job):
            return None
        if not job.pages_total:
            total = _count_pages(ctx, document)
            document.pages = total
            session.add(document)
            session.execute(update(Job).where(col(Job.id) == job_id).values(pages_total=total))
            job.pages_total = total
        done = repo.stored_page_numbers(session, job_id)
        todo = [n for n in range(1, job.pages_total + 1) if n not in done]
        log.info("job prepared: %d pages, %d to read", job.pages_total, len(todo))
        return todo


def _count_pages(ctx: JobContext, document: Document) -> int:
    source = pipeline.inspect_source(ctx.storage.local_path(document.storage_key), ctx.settings.max_pages)
    if source.pages > ctx.settings.max_pages:
        raise TooManyPagesError(f"the document has {source.pages} pages; the limit is "
                                f"{ctx.settings.max_pages}",
                                detail={"pages": source.pages, "limit": ctx.settings.max_pages})
    return source.pages


def run_page(ctx: JobContext, job_id: str, page_number: int) -> bool:
    """Read one page and store it; skip if stored already or the job is no longer running."""
    with job_context(job_id):
        with Session(ctx.engine) as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.running:
                return False
            if repo.has_page(session, job_id, page_number):
                return True
            document = session.get(Document, job.document_id)
            assert document is not None
            options = extract_options(job, ctx.settings)
            path = ctx.storage.local_path(document.storage_key)
        started = time.perf_counter()
        page = pipeline.extract_page(Path(path), page_number, options)
        seconds = time.perf_counter() - started
        _store_page(ctx, job_id, page_number, page, seconds)
        log.info("page %d read in %.2fs (%d tables)", page_number, seconds, len(page.tables),
                 extra={"page": page_number, "ocr_seconds": round(seconds, 3)})
        return True


def _store_page(ctx: JobContext, job_id: str, page_number: int, page: pipeline.PageResult,
                seconds: float) -> None:
    try:
        with session_scope(ctx.engine) as session:
            session.add(PageResultRow(job_id=job_id, page_number=page_number, data=page_to_json(page),
                                   ocr_seconds=seconds))
            session.flush()
            session.execute(update(Job).where(col(Job.id) == job_id)
                            .values(pages_done=repo.stored_pages_count_query(job_id)))
    except IntegrityError:
        log.info("page %d was stored by another worker", page_number)


def page_to_json(page: pipeline.PageResult) -> dict[str, Any]:
    return {"page": page.page.model_dump(mode="json"),
            "tables": [t.model_dump(mode="json") for t in page.tables]}


def page_from_json(data: dict[str, Any]) -> pipeline.PageResult:
    return pipeline.PageResult(page=PageInfo.model_validate(data["page"]),
                               tables=[Table.model_validate(t) for t in data.get("tables", [])])


def finalize(ctx: JobContext, job_id: str) -> bool:
    """Assemble the stored pages, run the fiscal layer and persist everything in one transaction;
    True when the job succeeded here."""
    with job_context(job_id):
        with session_scope(ctx.engine) as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.running:
                return False
            document = session.get(Document, job.document_id)
            assert document is not None
            stored = repo.stored_pages(session, job_id)
            if len(stored) != job.pages_total:
                raise RuntimeError(f"finalize: {len(stored)} of {job.pages_total} pages stored")
            pages = [page_from_json(p.data) for p in stored]
            extraction = pipeline.assemble(results.source_of(document), pages)
            extraction = yearly.with_previous_year(session, document, fiscal_bridge.enrich(extraction))
            results.persist_extraction(session, document, job_id, extraction)
            if not lifecycle.move(session, job_id, JobState.succeeded, pages_done=len(stored),
                                  **_finish_times(job)):
                session.rollback()
                return False
        log.info("job succeeded: %d tables, %d records, %d findings", len(extraction.tables),
                 len(extraction.records), len(extraction.findings))
        return True


def _finish_times(job: Job) -> dict[str, Any]:
    finished = utcnow()
    started = as_utc(job.started_at) or finished
    return {"finished_at": finished, "duration_s": (finished - started).total_seconds()}


def fail(ctx: JobContext, job_id: str, code: str, message: str) -> bool:
    """Mark an active job failed with a stable error code; True when the job failed here."""
    with job_context(job_id), session_scope(ctx.engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            return False
        changed = lifecycle.move(session, job_id, JobState.failed, error_code=code[:100],
                                 error_message=message[:2000], **_finish_times(job))
    if changed:
        log.warning("job failed: %s: %s", code, message, extra={"error_code": code})
    return changed


_SERVER_PATH_RE = re.compile(r"(?<![\w:/.])/(?:[^\s'\",;:/]+/)+[^\s'\",;:/]*")


def public_message(message: str) -> str:
    """A job's error as its owner sees it: server file paths (stored originals, temp files, the data
    directory) replaced, since they say nothing to the caller and tell an attacker about the host."""
    return _SERVER_PATH_RE.sub("<file>", message)


def fail_from_exception(ctx: JobContext, job_id: str, exc: BaseException) -> bool:
    """``fail`` with the code a typed error carries; anything else is ``internal_error`` with no internals
    in the message (the traceback goes to the log)."""
    if isinstance(exc, FiscalOCRError) or hasattr(exc, "code"):
        message = str(getattr(exc, "message", exc))
        log.info("job error (unredacted): %s", message)
        return fail(ctx, job_id, str(getattr(exc, "code", "internal_error")), public_message(message))
    log.error("job crashed", exc_info=exc)
    return fail(ctx, job_id, "internal_error",
                "internal error while processing the document (see the server log)")
