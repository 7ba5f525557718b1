"""Pipeline stages shared by every runner (embedded pool, Celery): prepare -> run_page* -> finalize.

Each stage opens its own session from the process-wide context (``configure``), is safe to repeat,
and reads the job's state from the database before working, so a cancelled or finished job is left
alone and a resumed job only redoes what is missing.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fiscal.lexicon import fiscal_lexicon
from models import Document, Job, JobState, PageResultRow, utcnow
from ocr import pipeline
from ocr.contract import PageInfo, Table
from ocr.errors import FiscalOCRError, TooManyPagesError
from ocr.source import OCR_MODES, OcrMode
from service import fiscal_bridge, results, yearly
from service.db import as_utc, make_engine, session_scope
from service.logs import job_context
from service.settings import Settings
from service.storage import LocalStorage, Storage

log = logging.getLogger(__name__)

ACTIVE_STATES = (JobState.queued.value, JobState.running.value)


@dataclass
class StageContext:
    settings: Settings
    engine: Engine
    storage: Storage


_contexts: dict[str, StageContext] = {}  # one per process: key "current"
_context_lock = threading.Lock()


def configure(settings: Settings | None = None, storage: Storage | None = None) -> StageContext:
    """Set up this process's engine and storage (worker initializer; idempotent per settings)."""
    settings = settings or Settings()
    with _context_lock:
        current = _contexts.get("current")
        if current is None or current.settings != settings:
            current = StageContext(settings, make_engine(settings.db_url),
                                   storage or LocalStorage(settings.files_dir))
            _contexts["current"] = current
        return current


def context() -> StageContext:
    return _contexts.get("current") or configure()


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


def pending_jobs() -> list[str]:
    """Jobs a starting runner must (re)submit, oldest first."""
    with Session(context().engine) as session:
        rows = session.exec(select(Job.id).where(col(Job.state).in_(ACTIVE_STATES))
                            .order_by(col(Job.created_at)))
        return list(rows.all())


def job_state(job_id: str) -> str | None:
    with Session(context().engine) as session:
        return session.exec(select(Job.state).where(Job.id == job_id)).first()


def _set_state(session: Session, job_id: str, new_state: str, allowed: tuple[str, ...],
               **values: Any) -> bool:
    """Move the job (and its document's status) only if it is still in an allowed state."""
    result = session.execute(update(Job).where(col(Job.id) == job_id, col(Job.state).in_(allowed))
                             .values(state=new_state, **values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    document_id = session.exec(select(Job.document_id).where(Job.id == job_id)).one()
    session.execute(update(Document).where(col(Document.id) == document_id)
                    .values(status=new_state, updated_at=utcnow()))
    return True


def prepare(job_id: str) -> list[int] | None:
    """Mark the job running and count its pages; return the pages still to read (None: nothing to do)."""
    ctx = context()
    with job_context(job_id), session_scope(ctx.engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in ACTIVE_STATES:
            return None
        document = session.get(Document, job.document_id)
        if document is None:
            return None
        if not _set_state(session, job_id, JobState.running.value, ACTIVE_STATES,
                          started_at=job.started_at or utcnow(), attempts=job.attempts + 1):
            return None
        if not job.pages_total:
            total = _count_pages(ctx, document)
            document.pages = total
            session.add(document)
            session.execute(update(Job).where(col(Job.id) == job_id).values(pages_total=total))
            job.pages_total = total
        done = set(session.exec(select(PageResultRow.page_number)
                                .where(PageResultRow.job_id == job_id)).all())
        todo = [n for n in range(1, job.pages_total + 1) if n not in done]
        log.info("job prepared: %d pages, %d to read", job.pages_total, len(todo))
        return todo


def _count_pages(ctx: StageContext, document: Document) -> int:
    source = pipeline.inspect_source(ctx.storage.local_path(document.storage_key), ctx.settings.max_pages)
    if source.pages > ctx.settings.max_pages:
        raise TooManyPagesError(f"the document has {source.pages} pages; the limit is "
                                f"{ctx.settings.max_pages}",
                                detail={"pages": source.pages, "limit": ctx.settings.max_pages})
    return source.pages


def run_page(job_id: str, page_number: int) -> bool:
    """Read one page and store it; skip if stored already or the job is no longer running."""
    ctx = context()
    with job_context(job_id):
        with Session(ctx.engine) as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.running.value:
                return False
            if session.exec(select(PageResultRow.id).where(PageResultRow.job_id == job_id,
                                                        PageResultRow.page_number == page_number)).first():
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


def _store_page(ctx: StageContext, job_id: str, page_number: int, page: pipeline.PageResult,
                seconds: float) -> None:
    try:
        with session_scope(ctx.engine) as session:
            session.add(PageResultRow(job_id=job_id, page_number=page_number, data=page_to_json(page),
                                   ocr_seconds=seconds))
            session.flush()
            done = select(func.count()).select_from(PageResultRow).where(col(PageResultRow.job_id) == job_id)
            session.execute(update(Job).where(col(Job.id) == job_id)
                            .values(pages_done=done.scalar_subquery()))
    except IntegrityError:
        log.info("page %d was stored by another worker", page_number)


def page_to_json(page: pipeline.PageResult) -> dict[str, Any]:
    return {"page": page.page.model_dump(mode="json"),
            "tables": [t.model_dump(mode="json") for t in page.tables]}


def page_from_json(data: dict[str, Any]) -> pipeline.PageResult:
    return pipeline.PageResult(page=PageInfo.model_validate(data["page"]),
                               tables=[Table.model_validate(t) for t in data.get("tables", [])])


def finalize(job_id: str) -> bool:
    """Assemble the stored pages, run the fiscal layer and persist everything in one transaction."""
    ctx = context()
    with job_context(job_id):
        with session_scope(ctx.engine) as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.running.value:
                return False
            document = session.get(Document, job.document_id)
            assert document is not None
            stored = session.exec(select(PageResultRow).where(PageResultRow.job_id == job_id)
                                  .order_by(col(PageResultRow.page_number))).all()
            if len(stored) != job.pages_total:
                raise RuntimeError(f"finalize: {len(stored)} of {job.pages_total} pages stored")
            pages = [page_from_json(p.data) for p in stored]
            extraction = pipeline.assemble(results.source_of(document), pages)
            extraction = yearly.with_previous_year(session, document, fiscal_bridge.enrich(extraction))
            results.persist_extraction(session, document, job_id, extraction)
            finished = utcnow()
            started = as_utc(job.started_at) or finished
            if not _set_state(session, job_id, JobState.succeeded.value, (JobState.running.value,),
                              finished_at=finished, duration_s=(finished - started).total_seconds(),
                              pages_done=len(stored)):
                session.rollback()
                return False
        log.info("job succeeded: %d tables, %d records, %d findings", len(extraction.tables),
                 len(extraction.records), len(extraction.findings))
        notify(job_id)
        return True


def fail(job_id: str, code: str, message: str) -> bool:
    """Mark an active job failed with a stable error code."""
    with job_context(job_id), session_scope(context().engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            return False
        finished = utcnow()
        started = as_utc(job.started_at) or finished
        changed = _set_state(session, job_id, JobState.failed.value, ACTIVE_STATES, finished_at=finished,
                             duration_s=(finished - started).total_seconds(),
                             error_code=code[:100], error_message=message[:2000])
    if changed:
        log.warning("job failed: %s: %s", code, message, extra={"error_code": code})
        notify(job_id)
    return changed


_SERVER_PATH_RE = re.compile(r"(?<![\w:/.])/(?:[^\s'\",;:/]+/)+[^\s'\",;:/]*")


def public_message(message: str) -> str:
    """A job's error as its owner sees it: server file paths (stored originals, temp files, the data
    directory) replaced, since they say nothing to the caller and tell an attacker about the host."""
    return _SERVER_PATH_RE.sub("<file>", message)


def fail_from_exception(job_id: str, exc: BaseException) -> bool:
    """``fail`` with the code a typed error carries; anything else is ``internal_error`` with no internals
    in the message (the traceback goes to the log)."""
    if isinstance(exc, FiscalOCRError) or hasattr(exc, "code"):
        message = str(getattr(exc, "message", exc))
        log.info("job error (unredacted): %s", message)
        return fail(job_id, str(getattr(exc, "code", "internal_error")), public_message(message))
    log.error("job crashed", exc_info=exc)
    return fail(job_id, "internal_error", "internal error while processing the document (see the server log)")


def cancel(job_id: str) -> bool:
    """Mark an active job cancelled (runners stop between pages)."""
    with session_scope(context().engine) as session:
        changed = _set_state(session, job_id, JobState.cancelled.value, ACTIVE_STATES, finished_at=utcnow())
    if changed:
        with job_context(job_id):
            log.info("job cancelled")
    return changed


def notify(job_id: str) -> None:
    """Tell ``service.webhooks.notify(job_id)`` a job reached a final state, if that module exists."""
    try:
        webhooks = importlib.import_module("service.webhooks")
    except ModuleNotFoundError as exc:
        if exc.name != "service.webhooks":
            log.exception("service.webhooks failed to import")
        return
    hook = getattr(webhooks, "notify", None)
    if not callable(hook):
        return
    ctx = context()
    # Hand over this process's settings/engine when the hook takes them (the app's settings may
    # not come from the environment, e.g. in tests or `fiscalocr serve` flags).
    offered = {"settings": ctx.settings, "engine": ctx.engine}
    accepted = inspect.signature(hook).parameters
    try:
        hook(job_id, **{name: value for name, value in offered.items() if name in accepted})
    except Exception:  # a failing webhook must never change the job's outcome
        log.exception("webhook notify failed")
