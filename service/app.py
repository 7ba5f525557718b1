"""The FastAPI application: ``create_app(settings)`` wires database, storage, runner and routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from service import db, validate_pool
from service.api import batches, documents, health, jobs, results, review, validate
from service.api.docs import install_docs
from service.dbgate import DatabaseGate, set_thread_limit
from service.errors import install_handlers
from service.guard import GuardLimits, RequestGuard
from service.jobs import JobContext
from service.logs import RequestIdMiddleware, configure_logging
from service.metrics import DatabaseCollector
from service.review import mount_review
from service.runners import get_runner
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
        db.open_sqlite_pool(app.state.engine, settings.pool_size)
        set_thread_limit(settings.api_threads)  # the limiter belongs to the serving event loop
        app.state.runner.start()
        log.info("fiscalocr service ready", extra={"runner": settings.runner, "workers": settings.workers,
                                                   "api_threads": settings.api_threads,
                                                   "db_pool_size": settings.pool_size})
        try:
            yield
        finally:
            app.state.runner.shutdown()
            validate_pool.shutdown()
            app.state.engine.dispose()
            app.state.job_context.engine.dispose()

    app = FastAPI(title="fiscalocr", version=API_VERSION, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Scanned Chinese budget / final-account reports -> tables, fiscal records and "
                              "validation findings. Authenticate with `Authorization: Bearer KEY`.")
    app.state.settings = settings
    app.state.engine = db.make_engine(settings.db_url, pool_size=settings.pool_size,
                                      pool_timeout_s=settings.db_pool_timeout_s)
    app.state.db_gate = DatabaseGate(app.state.engine, settings.pool_size, settings.db_pool_timeout_s)
    app.state.fetch_resolver = None  # None: the system resolver; tests inject a name -> address table
    app.state.storage = LocalStorage(settings.files_dir)
    # The runner's stages get their own engine: they must not take the request slots of db_gate.
    app.state.job_context = JobContext.from_settings(settings, app.state.storage)
    app.state.runner = get_runner(app.state.job_context)
    app.state.metrics_registry = CollectorRegistry(auto_describe=True)
    app.state.metrics_registry.register(DatabaseCollector(app.state.engine))
    install_handlers(app)
    for module in (documents, results, review, batches, jobs, validate, health):
        app.include_router(module.router)
    review_uploads = mount_review(app)  # the review page under /review (own uploads, CSP headers)
    install_docs(app)
    _document_read_bodies(app)
    uploads = frozenset({UPLOAD_PATH, batches.UPLOAD_PATH, *review_uploads})
    app.add_middleware(RequestGuard, limits=GuardLimits(
        json_bytes=settings.max_json_bytes, upload_paths=uploads, body_timeout_s=settings.body_timeout_s,
        drain_max_bytes=settings.drain_max_bytes, drain_timeout_s=settings.drain_timeout_s))
    app.add_middleware(RequestIdMiddleware)
    return app


def _document_read_bodies(app: FastAPI) -> None:
    """Routes that read their body themselves (off the event loop) name its models in openapi_extra;
    put those models into the components so the document stays complete."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = default_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model_schema in validate.body_component_schemas().items():
                components.setdefault(name, model_schema)
            schema["components"]["schemas"] = dict(sorted(components.items()))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
