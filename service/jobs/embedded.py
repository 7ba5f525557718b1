"""In-process runner: one coordinator thread per active job, pages read in a process pool.

OCR is CPU-bound, so pages go to ``WORKERS`` processes (spawned, not forked: the parent has threads
and open database connections). A coordinator keeps at most ``WORKERS`` pages of its job in flight,
checks for cancellation before each page, then finalizes. Jobs are rows in the database, so
``start`` resumes whatever a previous process left queued or running. When a job ends (succeeded or
failed) the runner hands it to the webhook sender.

The coordinators use the runner's ``JobContext``; each page-worker process builds its own from the
settings it is started with (``_init_worker``): an engine cannot cross a process boundary.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool

from models import JobState
from ocr.parallel import one_thread_per_worker
from service import webhooks
from service.jobs import stages
from service.jobs.context import JobContext
from service.logs import job_context
from service.settings import Settings

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

MAX_POOL_CRASHES_PER_JOB = 2
SHUTDOWN_GRACE_S = 5.0
WORKER_EXIT_GRACE_S = 5.0


class _StoppedError(Exception):
    """The runner is shutting down: leave the job as it is, a later start resumes it."""


class EmbeddedRunner:
    name = "embedded"

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.settings = context.settings
        self._lock = threading.Lock()
        self._active: set[str] = set()
        self._cancelled: set[str] = set()
        self._stopping = threading.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._coordinators: ThreadPoolExecutor | None = None
        self._running: list[Future[None]] = []

    # -- JobRunner -------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        self._pool = self._new_pool()
        self._coordinators = ThreadPoolExecutor(self.settings.concurrent_jobs,
                                                thread_name_prefix="fiscalocr-job")
        resumed = stages.pending_jobs(self.context)
        for job_id in resumed:
            self.submit(job_id)
        log.info("embedded runner started: %d page workers, %d resumed jobs", self.settings.workers,
                 len(resumed))

    def submit(self, job_id: str) -> None:
        with self._lock:
            if self._stopping.is_set() or self._coordinators is None or job_id in self._active:
                return
            self._active.add(job_id)
            self._cancelled.discard(job_id)
            self._running = [f for f in self._running if not f.done()]
            self._running.append(self._coordinators.submit(self._run_job, job_id))

    def cancel(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._active:
                self._cancelled.add(job_id)

    def shutdown(self) -> None:
        self._stopping.set()
        with self._lock:
            pool, coordinators, running = self._pool, self._coordinators, list(self._running)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        wait(running, timeout=SHUTDOWN_GRACE_S)
        if pool is not None:
            _terminate_workers(pool)
            # Join the pool's manager thread and drop every reference to it: its queues hold
            # semaphores that are only released when collected; left until exit, multiprocessing's
            # resource tracker prints "leaked semaphore objects" at every shutdown.
            pool.shutdown(wait=True, cancel_futures=True)
        if coordinators is not None:
            coordinators.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._pool = None
        del pool
        gc.collect()
        log.info("embedded runner stopped")

    def ready(self) -> bool:
        return not self._stopping.is_set() and self._pool is not None and not _is_broken(self._pool)

    # -- work ------------------------------------------------------------------------------------
    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.settings.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.settings,))

    def _run_job(self, job_id: str) -> None:
        with job_context(job_id):
            try:
                self._run_job_stages(job_id)
            except _StoppedError:
                log.info("runner stopping; job left for resume")
            except Exception as exc:
                if stages.fail_from_exception(self.context, job_id, exc):
                    self._finished(job_id)
            finally:
                with self._lock:
                    self._active.discard(job_id)
                    self._cancelled.discard(job_id)

    def _run_job_stages(self, job_id: str) -> None:
        crashes = 0
        while True:
            pages = stages.prepare(self.context, job_id)
            if pages is None:
                return
            try:
                if not self._read_pages(job_id, pages):
                    return
                break
            except BrokenProcessPool:
                if self._stopping.is_set():
                    raise _StoppedError() from None
                crashes += 1
                self._replace_broken_pool()
                if crashes > MAX_POOL_CRASHES_PER_JOB:
                    if stages.fail(self.context, job_id, "worker_crashed",
                                   "a page worker process died repeatedly on this job"):
                        self._finished(job_id)
                    return
                log.warning("page worker died; retrying the job's remaining pages")
        if stages.finalize(self.context, job_id):
            self._finished(job_id)

    def _finished(self, job_id: str) -> None:
        """The job succeeded or failed: its webhook goes out (never changes the job's outcome)."""
        try:
            webhooks.notify(job_id, engine=self.context.engine, settings=self.settings)
        except Exception:
            log.exception("webhook notify failed")

    def _read_pages(self, job_id: str, pages: list[int]) -> bool:
        """Run the pages through the pool; False if the job was cancelled on the way."""
        todo: Iterator[int] = iter(pages)
        in_flight: set[Future[bool]] = set()
        while True:
            while len(in_flight) < self.settings.workers and not self._should_stop(job_id):
                page = next(todo, None)
                if page is None:
                    break
                in_flight.add(self._submit_page(job_id, page))
            if not in_flight:
                break
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    future.result()
                except CancelledError:
                    raise _StoppedError() from None
        if self._stopping.is_set():
            raise _StoppedError()
        return not self._should_stop(job_id)

    def _submit_page(self, job_id: str, page: int) -> Future[bool]:
        pool = self._pool
        if pool is None or self._stopping.is_set():
            raise _StoppedError()
        try:
            return pool.submit(_run_page, job_id, page)
        except RuntimeError as exc:  # "cannot schedule new futures after shutdown"
            if self._stopping.is_set():
                raise _StoppedError() from exc
            raise

    def _should_stop(self, job_id: str) -> bool:
        if self._stopping.is_set() or job_id in self._cancelled:
            return True
        return stages.job_state(self.context, job_id) != JobState.running

    def _replace_broken_pool(self) -> None:
        with self._lock:
            if self._pool is not None and _is_broken(self._pool):
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()


class _PageWorker:
    """A page-worker process's own state: the context ``_init_worker`` built (None in other processes)."""

    context: JobContext | None = None


def _init_worker(settings: Settings) -> None:
    """Pool initializer: tie the worker's life to the server's, then build the worker's job context.

    A server killed with SIGKILL cannot shut its pool down; without this its OCR workers would
    live on as orphans holding memory (and, on restart, a second set would start).
    """
    _die_with_parent()
    one_thread_per_worker()
    _PageWorker.context = JobContext.from_settings(settings)


def _run_page(job_id: str, page_number: int) -> bool:
    """``stages.run_page`` in a page-worker process, with the context its initializer built."""
    context = _PageWorker.context
    if context is None:
        raise RuntimeError("page worker used without _init_worker")
    return stages.run_page(context, job_id, page_number)


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: fall back to polling below
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _is_broken(pool: ProcessPoolExecutor) -> bool:
    return bool(getattr(pool, "_broken", False))


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop page workers still busy after the grace period (their pages are redone on resume).
    Idle workers were told to exit by ``shutdown``; they get a moment to do so, since a terminated worker
    skips its exit handlers and leaves its semaphores to the resource tracker ("leaked semaphore")."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    deadline = time.monotonic() + WORKER_EXIT_GRACE_S
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
