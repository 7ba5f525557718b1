"""Admission control for the API's database pool: no request ever waits for a connection while
holding a worker thread.

Why: sync endpoints and dependencies run on anyio's worker threads (a limited number of tokens).
A request's session keeps its connection between those thread hops (after authentication, until
the response is serialised), while it waits for a token on the event loop. With more requests
than connections, every token can end up held by a thread waiting for the pool while every
connection is held by a request waiting for a token: a deadlock that only the pool timeout ends
(HTTP 500s), and meanwhile nothing else - not even ``/healthz`` - gets a thread.

The gate breaks the cycle: a request takes a slot (on the event loop, no thread) before it may
touch the pool, and there are exactly as many slots as pooled connections, so a thread never
waits for a connection. Requests beyond that wait on the loop, cheaply, and give up with 503
``service_busy`` after ``timeout_s``. Sessions are closed on a separate limiter, so giving a
connection back never queues behind the handlers waiting for it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.errors import ErrorCode, ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_AFTER_S = 1


def busy_error(what: str) -> ServiceError:
    return ServiceError(ErrorCode.service_busy, f"the service is busy ({what}); retry shortly",
                        headers={"Retry-After": str(RETRY_AFTER_S)})


class DatabaseGate:
    """``slots`` concurrent users of ``engine`` (set it to the pool's size, no overflow)."""

    def __init__(self, engine: Engine, slots: int, timeout_s: float) -> None:
        self.engine = engine
        self.slots = slots
        self.timeout_s = timeout_s
        # anyio primitives belong to one event loop: made on first use, inside the serving loop.
        self._semaphore: anyio.Semaphore | None = None
        self._closer: anyio.CapacityLimiter | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot; raises 503 ``service_busy`` when none frees up within ``timeout_s``."""
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.slots)
            self._closer = anyio.CapacityLimiter(self.slots)
        semaphore = self._semaphore
        acquired = False
        with anyio.move_on_after(self.timeout_s):
            await semaphore.acquire()
            acquired = True
        if not acquired:
            log.warning("database gate: no slot within %.1fs (%d slots)", self.timeout_s, self.slots)
            raise busy_error("all database connections in use")
        try:
            yield
        finally:
            semaphore.release()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """A session for one request (lazy: it connects on first use), closed off the handler threads."""
        async with self.slot():
            session = Session(self.engine, expire_on_commit=False)
            try:
                yield session
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(session.close, limiter=self._closer)

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` on a worker thread with its own session, closed on that same thread."""
        def in_thread() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return work(session)

        async with self.slot():
            return await anyio.to_thread.run_sync(in_thread)

    async def run_plain(self, work: Callable[[], T]) -> T:
        """``work()`` (which uses ``engine`` itself, e.g. a ping or metrics) under a slot."""
        async with self.slot():
            return await anyio.to_thread.run_sync(work)


def set_thread_limit(tokens: int) -> None:
    """Worker threads for sync endpoints and ``run_in_threadpool`` in the running event loop."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
