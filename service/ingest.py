"""Turn a received upload into a Document + queued Job (deduplicated per tenant by SHA-256)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio.to_thread
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import Document, Job, new_id
from service import repo
from service.auth import Principal
from service.errors import ErrorCode, ServiceError
from service.jobs import lifecycle
from service.jobs.base import JobRunner
from service.netguard import FetchError, RefusedAddressError, Resolver, check_url
from service.settings import Settings
from service.storage import Storage
from service.uploads import ReceivedUpload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    document_id: str
    job_id: str
    duplicate: bool


def check_callback_url(url: str | None) -> str | None:
    """Syntax only (``vet_callback_url`` does the rest)."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 2048 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid_callback("callback_url must be an absolute http(s) URL")
    return url


async def vet_callback_url(url: str | None, settings: Settings, resolver: Resolver | None) -> str | None:
    """Accept a webhook target only if it will be signed and may be contacted.

    Refused at submission (fail fast) when no webhook secret is configured (422
    ``webhook_secret_missing``: webhooks never go out unsigned) or when netguard refuses its address
    (403 ``fetch_refused_address``). The sender checks the address again before every delivery:
    DNS may change in between.
    """
    url = check_callback_url(url)
    if url is None:
        return None
    if not settings.webhook_secret:
        raise ServiceError(ErrorCode.webhook_secret_missing, "this server has no webhook secret "
                           "(FISCALOCR_WEBHOOK_SECRET), so it sends no webhooks: omit callback_url",
                           detail={"setting": "FISCALOCR_WEBHOOK_SECRET"})
    allow = settings.fetch_allow_hosts
    try:  # resolving may block (system DNS): not on the event loop
        await anyio.to_thread.run_sync(lambda: check_url(url, resolver=resolver, allow_hosts=allow))
    except RefusedAddressError:
        raise
    except FetchError as exc:  # e.g. the name does not resolve
        raise _invalid_callback(f"callback_url cannot be used: {exc.message}") from exc
    return url


def _invalid_callback(message: str) -> ServiceError:
    return ServiceError(ErrorCode.validation_error, message, detail=[
        {"loc": ["body", "callback_url"], "msg": message, "type": "value_error"}])


def ingest(session: Session, storage: Storage, runner: JobRunner, settings: Settings, principal: Principal, *,
           upload: ReceivedUpload, callback_url: str | None, ocr: str | None = None) -> Ingested:
    """Store the upload (or find the same file already stored) and make sure a job exists for it."""
    try:
        existing = repo.find_document(session, principal.tenant_id, upload.sha256)
        if existing is not None:
            return _reuse(session, runner, settings, principal, existing, callback_url=callback_url, ocr=ocr)
        _check_queue(session, settings, principal)
        document = Document(id=new_id(), tenant_id=principal.tenant_id, filename=upload.filename,
                            sha256=upload.sha256, size=upload.size, content_type=upload.content_type,
                            storage_key="")
        document.storage_key = f"{principal.tenant_id}/{document.id}"
        job = _new_job(document.id, principal, settings, callback_url, ocr)
        session.add(document)
        session.add(job)
        try:
            session.flush()
        except IntegrityError:  # the same file uploaded concurrently: the first one wins
            session.rollback()
            found = repo.find_document(session, principal.tenant_id, upload.sha256)
            if found is None:
                raise
            return _reuse(session, runner, settings, principal, found, callback_url=callback_url)
        storage.adopt(upload.temp_path, document.storage_key)
        session.commit()
    finally:
        upload.temp_path.unlink(missing_ok=True)
    log.info("document stored", extra={"document_id": document.id, "size": upload.size, "job": job.id})
    runner.submit(job.id)
    return Ingested(document.id, job.id, duplicate=False)


def _new_job(document_id: str, principal: Principal, settings: Settings, callback_url: str | None,
             ocr: str | None) -> Job:
    return Job(id=new_id(), document_id=document_id, tenant_id=principal.tenant_id, callback_url=callback_url,
               options={"engine": settings.engine, "dpi": settings.dpi, "ocr": ocr or settings.ocr_mode})


def _reuse(session: Session, runner: JobRunner, settings: Settings, principal: Principal,
           document: Document, *, callback_url: str | None, ocr: str | None = None) -> Ingested:
    """Same file again: return its job, or start a new one if the last one failed or was cancelled."""
    job = repo.latest_job(session, document.id)
    if job is not None and job.state not in lifecycle.RETRYABLE:
        return Ingested(document.id, job.id, duplicate=True)
    _check_queue(session, settings, principal)
    job = _new_job(document.id, principal, settings, callback_url, ocr)
    session.add(job)
    lifecycle.requeue_document(session, document)
    session.commit()
    runner.submit(job.id)
    return Ingested(document.id, job.id, duplicate=True)


def _check_queue(session: Session, settings: Settings, principal: Principal) -> None:
    queued = repo.queued_jobs(session, principal.tenant_id)
    if queued >= settings.max_queued_jobs_per_tenant:
        raise ServiceError(ErrorCode.too_many_jobs, f"{queued} jobs already queued; try again later",
                           headers={"Retry-After": "30"}, detail={"queued": queued})
