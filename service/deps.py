"""FastAPI dependencies: settings, DB session, storage, runner and the calling tenant.

Database access goes through the app's ``DatabaseGate`` (service/dbgate.py): a request holds a
slot for as long as its session may hold a connection, so handler threads never wait on the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth import Principal, authenticate
from service.dbgate import DatabaseGate
from service.errors import ErrorCode, ServiceError
from service.guard import scope_principal
from service.jobs.base import JobRunner
from service.netguard import Resolver
from service.settings import Settings
from service.storage import Storage

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer KEY`")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db_engine(request: Request) -> Engine:
    """The app's database engine (not an OCR engine: see ``ocr.engines``)."""
    engine: Engine = request.app.state.engine
    return engine


def get_gate(request: Request) -> DatabaseGate:
    gate: DatabaseGate = request.app.state.db_gate
    return gate


async def get_session(gate: Annotated[DatabaseGate, Depends(get_gate)]) -> AsyncIterator[Session]:
    """The request's session. Async on purpose: taking the slot and giving the connection back must
    not need one of the handler threads (see service/dbgate.py). Closed when the endpoint's
    function is done (scope="function"), before the response is sent."""
    async with gate.session() as session:
        yield session


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_resolver(request: Request) -> Resolver | None:
    """How the service resolves host names it is asked to contact (None: the system's resolver).
    Set ``app.state.fetch_resolver`` (or override this dependency) to inject another one."""
    resolver: Resolver | None = request.app.state.fetch_resolver
    return resolver


def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def _header(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return f"{credentials.scheme} {credentials.credentials}" if credentials else None


def _require(principal: Principal | None) -> Principal:
    if principal is None:
        raise ServiceError(ErrorCode.unauthenticated,
                           "missing or unknown API key (Authorization: Bearer KEY)",
                           headers={"WWW-Authenticate": "Bearer"})
    return principal


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, looked up with the request's own session (for endpoints that use SessionDep), unless
    the request guard already authenticated it before reading the body (service/guard.py)."""
    return scope_principal(request.scope) or _require(authenticate(session, _header(credentials)))


async def get_caller(
    request: Request,
    gate: Annotated[DatabaseGate, Depends(get_gate)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, looked up with a short session of its own: for endpoints that then stream a body
    or compute for a while, so they hold no database slot meanwhile."""
    known = scope_principal(request.scope)
    if known is not None:
        return known
    header = _header(credentials)
    return _require(await gate.run(lambda session: authenticate(session, header)))


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
StorageDep = Annotated[Storage, Depends(get_storage)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
CallerDep = Annotated[Principal, Depends(get_caller)]
GateDep = Annotated[DatabaseGate, Depends(get_gate)]
ResolverDep = Annotated[Resolver | None, Depends(get_resolver)]
