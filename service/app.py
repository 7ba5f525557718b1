"""The FastAPI application: ``create_app(settings)`` wires database, storage, runner and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Receive, Scope, Send

from service import db
from service.api import batches, documents, health, jobs, results, review, validate
from service.dbgate import DatabaseGate, set_thread_limit
from service.errors import error_response, install_handlers
from service.jobs import get_runner, stages
from service.logs import RequestIdMiddleware, configure_logging
from service.metrics import DatabaseCollector
from service.review import mount_review
from service.settings import Settings
from service.storage import LocalStorage

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
UPLOAD_PATH = "/v1/documents"


def create_app(settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations:
            db.upgrade(settings.db_url)
        set_thread_limit(settings.api_threads)  # the limiter belongs to the serving event loop
        app.state.runner.start()
        log.info("fiscalocr service ready", extra={"runner": settings.runner, "workers": settings.workers,
                                                   "api_threads": settings.api_threads,
                                                   "db_pool_size": settings.pool_size})
        try:
            yield
        finally:
            app.state.runner.shutdown()
            app.state.engine.dispose()

    app = FastAPI(title="fiscalocr", version=API_VERSION, lifespan=lifespan,
                  description="Scanned Chinese budget / final-account reports -> tables, fiscal records and "
                              "validation findings. Authenticate with `Authorization: Bearer KEY`.")
    app.state.settings = settings
    app.state.engine = db.make_engine(settings.db_url, pool_size=settings.pool_size,
                                      pool_timeout_s=settings.db_pool_timeout_s)
    app.state.db_gate = DatabaseGate(app.state.engine, settings.pool_size, settings.db_pool_timeout_s)
    app.state.fetch_resolver = None  # None: the system resolver; tests inject a name -> address table
    app.state.storage = LocalStorage(settings.files_dir)
    stages.configure(settings, app.state.storage)
    app.state.runner = get_runner(settings)
    app.state.metrics_registry = CollectorRegistry(auto_describe=True)
    app.state.metrics_registry.register(DatabaseCollector(app.state.engine))
    install_handlers(app)
    for module in (documents, results, review, batches, jobs, validate, health):
        app.include_router(module.router)
    review_uploads = mount_review(app)  # the review page under /review (own uploads, CSP headers)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_json_bytes,
                       exempt={UPLOAD_PATH, batches.UPLOAD_PATH, *review_uploads})
    app.add_middleware(RequestIdMiddleware)
    return app


class BodyLimitMiddleware:
    """413 before reading when Content-Length exceeds the JSON limit (uploads have their own limit)."""

    def __init__(self, app: ASGIApp, limit: int, exempt: set[str]) -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self.exempt:
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.limit:
                response = error_response("payload_too_large", f"body exceeds {self.limit} bytes", 413,
                                          {"limit": self.limit})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
