"""Request plumbing of the review page: who is signed in (cookie), CSRF checks, cookies, templates
and the security headers every /review response carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.dbgate import DatabaseGate
from service.deps import get_gate, get_settings
from service.errors import ErrorCode, ServiceError
from service.review import session as sessions
from service.review.session import ReviewPrincipal
from service.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))

# Only the app's own origin: no inline script or style, no CDN, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class ReviewSecurityHeaders:
    """Adds the CSP and friends to every response under /review (the JSON API and /docs keep theirs)."""

    def __init__(self, app: ASGIApp, prefix: str = "/review") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        static = str(scope["path"]).startswith(f"{self.prefix}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not static:  # pages and data are per reviewer: never cached
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def current_reviewer(request: Request, gate: Annotated[DatabaseGate, Depends(get_gate)],
                           settings: Annotated[Settings, Depends(get_settings)]) -> ReviewPrincipal | None:
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie:
        return None
    return await gate.run(lambda session: sessions.resolve(session, settings, cookie))


async def require_reviewer(reviewer: Annotated[ReviewPrincipal | None, Depends(current_reviewer)]
                           ) -> ReviewPrincipal:
    if reviewer is None:
        raise ServiceError(ErrorCode.unauthenticated, "sign in on /review first (session missing or expired)")
    return reviewer


async def require_csrf(request: Request,
                       reviewer: Annotated[ReviewPrincipal, Depends(require_reviewer)]) -> ReviewPrincipal:
    """State-changing calls from the page echo the session's token in X-CSRF-Token."""
    if not sessions.csrf_matches(reviewer.csrf_token, request.headers.get(sessions.CSRF_HEADER)):
        raise ServiceError(ErrorCode.csrf_failed, "missing or wrong CSRF token (X-CSRF-Token)")
    return reviewer


MaybeReviewer = Annotated[ReviewPrincipal | None, Depends(current_reviewer)]
Reviewer = Annotated[ReviewPrincipal, Depends(require_reviewer)]
CsrfReviewer = Annotated[ReviewPrincipal, Depends(require_csrf)]


def cookie_secure(request: Request, settings: Settings) -> bool:
    if settings.session_cookie_secure is not None:
        return settings.session_cookie_secure
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, settings: Settings, name: str, value: str, *,
               expires: datetime) -> None:
    response.set_cookie(name, value, expires=expires, path=sessions.COOKIE_PATH, httponly=True,
                        samesite="strict", secure=cookie_secure(request, settings))


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path=sessions.COOKIE_PATH, httponly=True, samesite="strict",
                           secure=cookie_secure(request, settings))
