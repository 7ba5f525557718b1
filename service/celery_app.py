"""Celery on Redis: the distributed runner's tasks and worker entry point.

A job becomes ``start_job`` -> one ``run_page`` task per page still missing -> ``finalize``. Page
results live in the database (``PageResultRow`` rows, written by ``stages.run_page``); no result
backend is used. Instead of a chord, the page task that finds every page stored enqueues
``finalize`` (once, guarded by a Redis flag), so nothing depends on chord counters surviving
a crash.

Crash safety: tasks are acknowledged late and rejected (re-queued) when the worker process dies;
a worker killed outright leaves its messages "unacked" in Redis, restored after the visibility
timeout; and a worker that starts re-submits every job still queued/running (the stages are
idempotent, so a duplicate message only repeats work, never results).

Run a worker with ``fiscalocr worker`` (-> ``run_worker``) or
``celery -A service.celery_app worker --pool=prefork -c 2``.

The tasks run the stages with the worker's ``JobContext``, built from the Celery app's settings when
the worker starts and again in each forked worker process (``worker_context``). When a stage ends a
job, the task enqueues its webhook delivery (``_job_finished``): the runner owns what follows a job.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from celery import Celery, Task, signals
from sqlmodel import Session

from models import Job, JobState
from service import repo, webhooks
from service.jobs import lifecycle, stages
from service.jobs.context import JobContext
from service.settings import Settings, load_settings

log = logging.getLogger(__name__)

MAX_PAGE_DELIVERIES = 5  # a page whose worker process keeps dying fails the job after this many tries
MAX_LEASE_WAITS = 50  # times a duplicate page task waits for another worker's lease before giving up


def make_app(settings: Settings | None = None) -> Celery:
    """The Celery app; broker tuning comes from the ``celery_*`` settings (FISCALOCR_CELERY_*)."""
    settings = settings or load_settings()
    transport: dict[str, Any] = {
        "visibility_timeout": settings.celery_visibility_timeout_s,
        "unacked_restore_interval": settings.celery_restore_interval_s,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
    }
    if settings.celery_key_prefix:
        transport["global_keyprefix"] = settings.celery_key_prefix
    app = Celery("fiscalocr", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.celery_queue,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5,
                                   "interval_max": 2},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_soft_time_limit=int(settings.page_timeout_s * 3 + 60),
        worker_cancel_long_running_tasks_on_connection_loss=True,
    )
    app.conf.fiscalocr_settings = settings
    return app


app = make_app()
# Broker tuning is fixed when the module is imported (queue names, key prefix and timeouts must not
# change under a running worker); ``use_settings`` only repoints the database/broker URLs.
_tuning: Settings = app.conf.fiscalocr_settings
_redis_clients: dict[str, Any] = {}


class _Worker:
    """This worker process's job context (built on worker start, rebuilt in each forked child)."""

    context: JobContext | None = None


def worker_context() -> JobContext:
    """The context the tasks of this process run the stages with (built from ``settings()``)."""
    context = _Worker.context
    if context is None or context.settings is not settings():
        context = _Worker.context = JobContext.from_settings(settings())
    return context


def settings() -> Settings:
    configured: Settings = app.conf.fiscalocr_settings
    return configured


def use_settings(new: Settings) -> None:
    """Point the app at ``new`` (the API's settings may carry CLI overrides); call before first use."""
    app.conf.broker_url = new.redis_url
    app.conf.fiscalocr_settings = new
    _redis_clients.clear()


def page_task_id(job_id: str, page_number: int) -> str:
    return f"{job_id}-page-{page_number}"


def task_ids(job_id: str, pages_total: int) -> list[str]:
    """Every task id a job can have (for revoking on cancel)."""
    return [f"{job_id}-start", f"{job_id}-finalize",
            *(page_task_id(job_id, n) for n in range(1, pages_total + 1))]


def redis_key(*parts: object) -> str:
    return _tuning.celery_key_prefix + "fiscalocr:" + ":".join(str(p) for p in parts)


def redis_client() -> Any:
    """A shared redis-py client on the broker's URL (its pool reconnects after a fork)."""
    url = settings().redis_url
    if url not in _redis_clients:
        import redis

        _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    return _redis_clients[url]


def _transient_errors() -> tuple[type[BaseException], ...]:
    import redis
    from sqlalchemy.exc import DBAPIError, OperationalError

    # DBAPIError covers connection drops; IntegrityError is a DBAPIError too but is never raised
    # out of stages for duplicates (run_page swallows it), so retrying it is harmless.
    return (OperationalError, DBAPIError, redis.ConnectionError, redis.TimeoutError, ConnectionError)


class StageTask(Task):  # type: ignore[misc]
    """Shared retry policy: transient infrastructure errors retry with capped exponential backoff;
    typed failures and bugs fail the job with a stable code (never a silent loss)."""

    abstract = True
    max_retries = _tuning.celery_transient_retries

    def run_stage(self, job_id: str, stage: Any, *args: Any) -> Any:
        """``stage(context, *args)``; a stage error fails the job (after retries if transient)."""
        context = worker_context()
        try:
            return stage(context, *args)
        except _transient_errors() as exc:
            active = lifecycle.is_active(stages.job_state(context, job_id))
            if self.request.retries < self.max_retries and active:
                countdown = min(60.0, 2.0 ** self.request.retries) * random.uniform(0.8, 1.2)
                log.warning("transient error in %s for job %s, retry in %.1fs: %r", self.name, job_id,
                            countdown, exc)
                raise self.retry(exc=exc, countdown=countdown) from exc
            _failed(stages.fail_from_exception(context, job_id, exc), job_id)
        except Exception as exc:
            if lifecycle.is_active(stages.job_state(context, job_id)):
                _failed(stages.fail_from_exception(context, job_id, exc), job_id)
            else:  # e.g. a duplicate finalize losing the race to one that already succeeded
                log.info("%s for job %s ignored error after the job ended: %r", self.name, job_id, exc)
        return None


def _failed(changed: bool, job_id: str) -> None:
    if changed:
        _job_finished(job_id)


def _job_finished(job_id: str) -> None:
    """A job succeeded or failed in this worker: enqueue its webhook if it has a callback URL (a retry
    is a new task with a countdown, so no worker slot sleeps). Never changes the job's outcome."""
    try:
        with Session(worker_context().engine) as session:
            if not repo.callback_url(session, job_id):
                return
        deliver_webhook_task.delay(job_id)
    except Exception:
        log.exception("could not schedule the webhook for job %s", job_id)


def _task(**options: Any) -> Callable[[Callable[..., None]], Any]:
    """``app.task`` with a declared type (Celery ships no type hints)."""
    register: Callable[[Callable[..., None]], Any] = app.task(**options)
    return register


def _on(signal: Any) -> Callable[[Callable[..., None]], Any]:
    connect: Callable[[Callable[..., None]], Any] = signal.connect
    return connect


@_task(bind=True, base=StageTask, name="fiscalocr.start_job")
def start_job(self: StageTask, job_id: str) -> None:
    """Mark the job running, count pages, enqueue the missing ones (or finalize if none is missing)."""
    pages = self.run_stage(job_id, stages.prepare, job_id)
    if pages is None:
        return
    if not pages:
        enqueue_finalize(job_id, force=True)
        return
    with app.producer_or_acquire() as producer:
        for page in pages:
            run_page.apply_async((job_id, page), task_id=page_task_id(job_id, page), producer=producer)
    log.info("job %s: %d page tasks enqueued", job_id, len(pages))


@_task(bind=True, base=StageTask, name="fiscalocr.run_page")
def run_page(self: StageTask, job_id: str, page_number: int) -> None:
    with page_lease(job_id, page_number) as held:
        if not held:
            # Another live worker is reading this page (a duplicate delivery after a resume or a
            # restore). Come back once its lease could have expired: if it finished, the page is
            # stored and this returns at once; if it died, this one does the page.
            if self.request.retries < MAX_LEASE_WAITS:
                raise self.retry(countdown=_tuning.celery_lease_s + 1, max_retries=MAX_LEASE_WAITS)
            _failed(stages.fail(worker_context(), job_id, "worker_crashed",
                                f"page {page_number} stayed leased by another worker"), job_id)
            return
        deliveries = int(_redis_incr(redis_key("page-deliveries", job_id, page_number)))
        if deliveries > MAX_PAGE_DELIVERIES:
            _failed(stages.fail(worker_context(), job_id, "worker_crashed",
                                f"page {page_number} was started {deliveries - 1} times without finishing"),
                    job_id)
            return
        stored = self.run_stage(job_id, stages.run_page, job_id, page_number)
    if stored and _all_pages_stored(job_id):
        enqueue_finalize(job_id)


@contextmanager
def page_lease(job_id: str, page_number: int) -> Iterator[bool]:
    """Hold a Redis lease on one page while reading it, renewed by a heartbeat thread.

    A worker killed outright stops renewing, so its lease lapses after ``lease_s`` seconds.
    """
    client = redis_client()
    key = redis_key("page-lease", job_id, page_number)
    token = uuid.uuid4().hex
    if not client.set(key, token, nx=True, ex=_tuning.celery_lease_s):
        yield False
        return
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(_tuning.celery_lease_s / 3):
            try:
                client.set(key, token, xx=True, ex=_tuning.celery_lease_s)
            except Exception:  # a Redis blip: the next beat retries; the page result is in the DB anyway
                log.warning("could not renew lease %s", key, exc_info=True)

    beat = threading.Thread(target=heartbeat, name=f"lease-{job_id}-{page_number}", daemon=True)
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join(timeout=5)
        with suppress(Exception):
            if client.get(key) == token.encode():
                client.delete(key)


@_task(bind=True, base=StageTask, name="fiscalocr.finalize")
def finalize(self: StageTask, job_id: str) -> None:
    if self.run_stage(job_id, stages.finalize, job_id):
        _job_finished(job_id)


@_task(bind=True, name="fiscalocr.webhook", max_retries=0)
def deliver_webhook_task(self: Task, job_id: str, attempt: int | None = None) -> None:
    """One webhook attempt; a retry is a new task with a countdown, so no worker slot sleeps."""
    import asyncio

    ctx = worker_context()
    with Session(ctx.engine) as session:
        url, payload = webhooks.build_payload(session, job_id)
    if not url:
        return
    policy = webhooks.policy_from_settings(ctx.settings)
    number = attempt or webhooks.previous_attempts(ctx.engine, job_id) + 1
    outcome = asyncio.run(webhooks.attempt_delivery(
        url, webhooks.encode_payload(payload), secret=ctx.settings.webhook_secret,
        event=str(payload["event"]), attempt=number, policy=policy))
    webhooks.db_recorder(ctx.engine, job_id)(url, outcome)
    if not outcome.delivered and outcome.retryable and number < policy.max_attempts:
        countdown = min(policy.delay_after(number), _tuning.celery_visibility_timeout_s / 2)
        deliver_webhook_task.apply_async((job_id, number + 1), countdown=countdown)


def enqueue_finalize(job_id: str, *, force: bool = False) -> None:
    """Enqueue finalize once per visibility window (``force`` on resume: the earlier one may be lost)."""
    flag = redis_key("finalize-enqueued", job_id)
    if not redis_client().set(flag, "1", nx=True, ex=_tuning.celery_visibility_timeout_s) and not force:
        return
    finalize.apply_async((job_id,), task_id=f"{job_id}-finalize")


def _all_pages_stored(job_id: str) -> bool:
    with Session(worker_context().engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.state != JobState.running:
            return False
        return repo.count_stored_pages(session, job_id) >= job.pages_total


def _redis_incr(key: str) -> int:
    client = redis_client()
    value = client.incr(key)
    client.expire(key, 7 * 24 * 3600)
    return int(value)


def submit_job(job_id: str) -> None:
    start_job.apply_async((job_id,), task_id=f"{job_id}-start")


def resume_pending(context: JobContext) -> int:
    """Re-submit every job left queued/running; returns how many."""
    pending = stages.pending_jobs(context)
    for job_id in pending:
        submit_job(job_id)
    if pending:
        log.info("re-submitted %d queued/running jobs", len(pending))
    return len(pending)


# --- worker process lifecycle --------------------------------------------------------------------

@_on(signals.worker_init)
def _on_worker_init(**_: Any) -> None:
    from service.db import upgrade
    from service.logs import configure_logging

    configure_logging(settings().log_level, settings().log_json)
    if settings().run_migrations:
        upgrade(settings().db_url)  # idempotent; serialised by an advisory lock on PostgreSQL
    worker_context()


@_on(signals.worker_process_init)
def _on_worker_process_init(**_: Any) -> None:
    from ocr.parallel import one_thread_per_worker

    # A forked child must not share the parent's pooled database connections.
    worker_context().engine.dispose(close=False)
    one_thread_per_worker()  # the pool's processes fill the cores


@_on(signals.worker_ready)
def _on_worker_ready(**_: Any) -> None:
    if not _tuning.celery_resume_on_start:
        return
    try:
        resume_pending(worker_context())
    except Exception:
        log.exception("could not re-submit pending jobs on worker start")


def run_worker(concurrency: int, *, loglevel: str = "INFO") -> None:
    """Run a prefork worker in this process until it is stopped (``fiscalocr worker``)."""
    app.worker_main(argv=["worker", "--pool=prefork", f"--concurrency={max(1, concurrency)}",
                          f"--loglevel={loglevel}", "-Q", _tuning.celery_queue, "--without-gossip",
                          "--without-mingle", "-n", "fiscalocr@%h"])
