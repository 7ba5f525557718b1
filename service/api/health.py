"""Probes and metrics (no authentication: they say nothing about any tenant's data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ocr.engines import probe_engine
from service.db import ping
from service.dbgate import DatabaseGate
from service.errors import ErrorCode, ServiceError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive. Async and touching nothing: it answers even when every worker thread
    and database connection is busy."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is not reachable"}})
async def readyz(request: Request) -> JSONResponse:
    """Database, storage and the job queue are reachable and the OCR engine is installed (200), or
    which of them is not (503)."""
    gate: DatabaseGate = request.app.state.db_gate
    checks: dict[str, dict[str, Any]] = {}
    try:
        checks["database"] = await gate.run_plain(lambda: _check(lambda: ping(gate.engine)))
    except ServiceError as exc:  # no slot: the database is reachable but saturated
        checks["database"] = {"ok": False, "error": exc.message}
    checks.update(await run_in_threadpool(_other_checks, request))
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if not ready:
        body.update(code=ErrorCode.service_unavailable.value, message="not ready: " + ", ".join(
            name for name, check in checks.items() if not check["ok"]))
    return JSONResponse(body, status_code=200 if ready else 503)


def _check(probe: Callable[[], object]) -> dict[str, Any]:
    try:
        probe()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True}


def _other_checks(request: Request) -> dict[str, dict[str, Any]]:
    state = request.app.state
    return {"storage": _check(state.storage.check), "queue": _check(lambda: _queue_ready(state.runner)),
            "ocr": _check(lambda: probe_engine(state.settings.engine))}


def _queue_ready(runner: Any) -> None:
    ready = getattr(runner, "ready", None)
    if callable(ready) and not ready():
        raise RuntimeError(f"{runner.name} runner not ready")


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics (read from the database, so under a database slot)."""
    gate: DatabaseGate = request.app.state.db_gate
    body = await gate.run_plain(lambda: generate_latest(request.app.state.metrics_registry))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
