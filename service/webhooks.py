"""Job-completion webhooks: signed POSTs with bounded, exponentially backed-off retries.

Signature header (Stripe-like, so receivers can reject replays)::

    X-FiscalOCR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

Every attempt is recorded as a ``WebhookDelivery`` row. The callback URL is vetted by
``netguard`` before every attempt and the POST goes to the pinned address only. ``notify`` is what
the runners call when a job ends; it never blocks the caller for the duration of the retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Job, JobState, WebhookDelivery
from service import repo
from service.errors import ErrorCode
from service.fetch import pinned_request
from service.netguard import FetchError, Resolver, check_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-FiscalOCR-Signature"
EVENT_HEADER = "X-FiscalOCR-Event"
DEFAULT_TOLERANCE_S = 300
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


# --- signing -------------------------------------------------------------------------------------

def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for ``body`` at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str | None, *,
                     tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and its timestamp is within the tolerance.

    Accepts several ``v1=`` entries (a sender rotating secrets may send one per secret).
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- delivery ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 5
    backoff_base_s: float = 2.0  # delay before attempt n+1 = base * 2**(n-1), capped, +-10 % jitter
    backoff_max_s: float = 300.0
    timeout_s: float = 10.0
    allow_hosts: frozenset[str] = field(default_factory=frozenset)

    def delay_after(self, attempt: int) -> float:
        delay = min(self.backoff_max_s, self.backoff_base_s * float(2 ** (attempt - 1)))
        return float(delay * random.uniform(0.9, 1.1))  # jitter spreads retries of many jobs


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: int
    status_code: int | None
    error: str | None  # None when delivered
    retryable: bool
    started: float
    finished: float

    @property
    def delivered(self) -> bool:
        return self.error is None


AttemptRecorder = Callable[[str, AttemptOutcome], None]
"""Called with (url, outcome) after each attempt (e.g. to write a WebhookDelivery row)."""


async def attempt_delivery(url: str, body: bytes, *, secret: str | None, event: str, attempt: int,
                           policy: DeliveryPolicy, resolver: Resolver | None = None,
                           transport: httpx.AsyncBaseTransport | None = None) -> AttemptOutcome:
    """One signed POST. Refused addresses and 4xx answers are final; network errors and 5xx retry."""
    started = time.time()
    if not secret:  # never unsigned: receivers could not tell our webhooks from forgeries
        return AttemptOutcome(attempt, None, "webhook_secret_missing: no FISCALOCR_WEBHOOK_SECRET configured",
                              False, started, time.time())
    try:
        target = check_url(url, resolver=resolver, allow_hosts=policy.allow_hosts)
    except FetchError as exc:
        retryable = exc.code != ErrorCode.fetch_refused_address  # a resolver hiccup may pass; a refusal won't
        return AttemptOutcome(attempt, None, f"{exc.code}: {exc.message}", retryable, started, time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "fiscalocr-webhook/1", EVENT_HEADER: event,
               SIGNATURE_HEADER: sign(secret, body)}
    timeout = httpx.Timeout(policy.timeout_s)
    try:
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=timeout,
                                     transport=transport) as client:
            request = pinned_request(client, "POST", target, headers=headers, content=body)
            response = await client.send(request)
    except httpx.HTTPError as exc:
        return AttemptOutcome(attempt, None, f"{type(exc).__name__}: {exc}", True, started, time.time())
    status = response.status_code
    if 200 <= status < 300:
        return AttemptOutcome(attempt, status, None, False, started, time.time())
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    return AttemptOutcome(attempt, status, f"HTTP {status}", retryable, started, time.time())


async def deliver(url: str, payload: dict[str, Any], *, secret: str | None,
                  policy: DeliveryPolicy | None = None, resolver: Resolver | None = None,
                  record: AttemptRecorder | None = None, first_attempt: int = 1,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                  transport: httpx.AsyncBaseTransport | None = None) -> list[AttemptOutcome]:
    """Deliver with retries; return every attempt's outcome (the last one says how it ended)."""
    policy = policy or DeliveryPolicy()
    body = encode_payload(payload)
    event = str(payload.get("event", ""))
    outcomes: list[AttemptOutcome] = []
    for attempt in range(first_attempt, policy.max_attempts + 1):
        outcome = await attempt_delivery(url, body, secret=secret, event=event, attempt=attempt,
                                         policy=policy, resolver=resolver, transport=transport)
        outcomes.append(outcome)
        if record is not None:
            record(url, outcome)
        _log_outcome(url, outcome, policy)
        if outcome.delivered or not outcome.retryable or attempt == policy.max_attempts:
            break
        await sleep(policy.delay_after(attempt))
    return outcomes


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _log_outcome(url: str, outcome: AttemptOutcome, policy: DeliveryPolicy) -> None:
    where = url.split("?", 1)[0]
    if outcome.delivered:
        log.info("webhook delivered to %s (attempt %d, HTTP %s)", where, outcome.attempt, outcome.status_code)
    else:
        log.warning("webhook to %s failed (attempt %d/%d): %s%s", where, outcome.attempt, policy.max_attempts,
                    outcome.error, "" if outcome.retryable else " (final)")


# --- the job-end hook ----------------------------------------------------------------------------

def build_payload(session: Session, job_id: str) -> tuple[str | None, dict[str, Any]]:
    """(callback URL, payload) for a finished job; URL None when the job has no callback."""
    job = session.get(Job, job_id)
    if job is None:
        raise LookupError(f"job {job_id} not found")
    state = str(job.state)
    error = {"code": job.error_code, "message": job.error_message} if job.error_code else None
    summary: dict[str, Any] = {"pages_total": job.pages_total, "pages_done": job.pages_done,
                               "duration_s": job.duration_s}
    if state == JobState.succeeded:
        summary["tables"] = repo.count_tables(session, job.document_id)
        summary["records"] = repo.count_records(session, job.document_id)
        summary["findings"] = repo.findings_by_severity(session, job.document_id)
    payload = {"event": "job.succeeded" if state == JobState.succeeded else "job.failed", "job_id": job.id,
               "document_id": job.document_id, "state": state, "error": error, "summary": summary}
    return job.callback_url, payload


def db_recorder(engine: Engine, job_id: str) -> AttemptRecorder:
    """An AttemptRecorder writing one WebhookDelivery row per attempt."""
    def record(url: str, outcome: AttemptOutcome) -> None:
        row = WebhookDelivery(job_id=job_id, url=url[:2048], attempt=outcome.attempt,
                              status_code=outcome.status_code, error=outcome.error,
                              created_at=datetime.fromtimestamp(outcome.started, UTC),
                              finished_at=datetime.fromtimestamp(outcome.finished, UTC))
        with Session(engine) as session:
            session.add(row)
            session.commit()

    return record


def previous_attempts(engine: Engine, job_id: str) -> int:
    with Session(engine) as session:
        latest = session.exec(select(func.max(WebhookDelivery.attempt))
                              .where(WebhookDelivery.job_id == job_id)).one()
    return int(latest or 0)


def deliver_for_job(engine: Engine, job_id: str, *, secret: str | None, policy: DeliveryPolicy,
                    resolver: Resolver | None = None) -> list[AttemptOutcome]:
    """Blocking: load the job, deliver its webhook with retries, record every attempt."""
    with Session(engine) as session:
        url, payload = build_payload(session, job_id)
    if not url:
        return []
    first = previous_attempts(engine, job_id) + 1  # resumes numbering after a restart
    return asyncio.run(deliver(url, payload, secret=secret, policy=policy, resolver=resolver,
                               record=db_recorder(engine, job_id), first_attempt=first))


_threads: set[threading.Thread] = set()


def notify(job_id: str, *, engine: Engine, settings: Any, resolver: Resolver | None = None,
           policy: DeliveryPolicy | None = None, wait: bool = False) -> None:
    """Deliver a finished job's webhook from a daemon thread (the embedded runner calls it when a job
    reaches succeeded/failed; the Celery runner enqueues ``deliver_webhook_task`` instead).

    ``wait`` joins the thread (tests, CLI). Never raises: a webhook problem must not fail the job.
    """
    try:
        with Session(engine) as session:
            if not repo.callback_url(session, job_id):
                return
        policy = policy or policy_from_settings(settings)
        thread = threading.Thread(target=_deliver_quietly, name=f"webhook-{job_id}", daemon=True,
                                  args=(engine, job_id, settings.webhook_secret, policy, resolver))
        _threads.add(thread)
        thread.start()
        if wait:
            thread.join()
    except Exception:
        log.exception("could not schedule the webhook for job %s", job_id)


def _deliver_quietly(engine: Engine, job_id: str, secret: str | None, policy: DeliveryPolicy,
                     resolver: Resolver | None) -> None:
    try:
        deliver_for_job(engine, job_id, secret=secret, policy=policy, resolver=resolver)
    except Exception:
        log.exception("webhook delivery for job %s crashed", job_id)
    finally:
        _threads.discard(threading.current_thread())


def policy_from_settings(settings: Any, allow_hosts: Collection[str] | None = None) -> DeliveryPolicy:
    hosts = allow_hosts if allow_hosts is not None else getattr(settings, "fetch_allow_hosts", ()) or ()
    defaults = DeliveryPolicy()
    return DeliveryPolicy(
        max_attempts=int(getattr(settings, "webhook_max_attempts", None) or defaults.max_attempts),
        backoff_base_s=float(getattr(settings, "webhook_backoff_s", None) or defaults.backoff_base_s),
        backoff_max_s=float(getattr(settings, "webhook_backoff_max_s", None) or defaults.backoff_max_s),
        timeout_s=float(getattr(settings, "webhook_timeout_s", None) or defaults.timeout_s),
        allow_hosts=frozenset(h.lower() for h in hosts),
    )
