"""Probes and metrics (no authentication: they say nothing about any tenant's data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.db import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is not reachable"}})
async def readyz(request: Request) -> JSONResponse:
    """Database, storage and the job queue are reachable (200), or which of them is not (503)."""
    checks = await run_in_threadpool(_checks, request)
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if not ready:
        body.update(code="service_unavailable", message="not ready: " + ", ".join(
            name for name, check in checks.items() if not check["ok"]))
    return JSONResponse(body, status_code=200 if ready else 503)


def _checks(request: Request) -> dict[str, dict[str, Any]]:
    state = request.app.state
    results: dict[str, dict[str, Any]] = {}
    for name, probe in (("database", lambda: ping(state.engine)), ("storage", state.storage.check),
                        ("queue", lambda: _queue_ready(state.runner))):
        try:
            probe()
            results[name] = {"ok": True}
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return results


def _queue_ready(runner: Any) -> None:
    ready = getattr(runner, "ready", None)
    if callable(ready) and not ready():
        raise RuntimeError(f"{runner.name} runner not ready")


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    body = await run_in_threadpool(generate_latest, request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
