"""The review page's HTML routes: sign-in, sign-out, the documents list, the workspace, downloads.

Contract for automation (kept stable): GET /review is the sign-in page; POST /review/login with the
form field ``api_key`` sets the session cookie and redirects to the list; GET
/review/documents/{document_id} is the workspace.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from models import Document, utcnow
from service.access import tenant_document
from service.deps import GateDep, SettingsDep, StorageDep
from service.errors import ErrorCode, ServiceError
from service.review import session as sessions
from service.review.reporting import ready_report_inputs, records_xlsx, render_report
from service.review.web import MaybeReviewer, Reviewer, clear_cookie, set_cookie, templates

router = APIRouter(prefix="/review", include_in_schema=False)
LOGIN_TTL = timedelta(hours=1)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _login_page(request: Request, settings: SettingsDep, error: str | None, status: int) -> Response:
    """The sign-in form, with a fresh login CSRF token in a signed cookie and in the form."""
    token = secrets.token_urlsafe(24)
    expires = utcnow() + LOGIN_TTL
    response = templates.TemplateResponse(request, "login.html", {"csrf_token": token, "error": error},
                                          status_code=status)
    set_cookie(response, request, settings, sessions.LOGIN_COOKIE,
               sessions.sign_value(sessions.secret_for(settings), token, expires), expires=expires)
    return response


@router.get("", response_class=HTMLResponse)
def sign_in_page(request: Request, reviewer: MaybeReviewer, settings: SettingsDep) -> Response:
    if reviewer is not None:
        return RedirectResponse("/review/documents", status_code=303)
    return _login_page(request, settings, None, 200)


@router.post("/login")
async def login(request: Request, gate: GateDep, settings: SettingsDep,
                api_key: Annotated[str, Form(max_length=200)] = "",
                csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    login_cookie = request.cookies.get(sessions.LOGIN_COOKIE)
    expected = sessions.verify_value(sessions.secret_for(settings), login_cookie)
    if expected is None or not sessions.csrf_matches(expected, csrf_token):
        return _login_page(request, settings, "表单已过期，请重新登录（CSRF）", 403)
    created = await gate.run(lambda session: sessions.sign_in(session, settings, api_key))
    if created is None:
        return _login_page(request, settings, "API 密钥无效或已撤销", 401)
    cookie, expires = created
    response = RedirectResponse("/review/documents", status_code=303)
    set_cookie(response, request, settings, sessions.COOKIE, cookie, expires=expires)
    clear_cookie(response, request, settings, sessions.LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, reviewer: MaybeReviewer, gate: GateDep, settings: SettingsDep,
                 csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    if reviewer is not None:
        if not sessions.csrf_matches(reviewer.csrf_token, csrf_token):
            raise ServiceError(ErrorCode.csrf_failed, "missing or wrong CSRF token")
        await gate.run(lambda session: sessions.sign_out(session, reviewer.session_id))
    response = RedirectResponse("/review", status_code=303)
    clear_cookie(response, request, settings, sessions.COOKIE)
    return response


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, reviewer: MaybeReviewer) -> Response:
    if reviewer is None:
        return RedirectResponse("/review", status_code=303)
    return templates.TemplateResponse(request, "documents.html", _base(reviewer))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
async def workspace_page(request: Request, document_id: str, reviewer: MaybeReviewer,
                         gate: GateDep) -> Response:
    if reviewer is None:
        return RedirectResponse("/review", status_code=303)
    document = await gate.run(lambda session: _find(session, reviewer, document_id))
    if document is None:  # another tenant's document looks exactly like a missing one
        return templates.TemplateResponse(request, "not_found.html", _base(reviewer), status_code=404)
    return templates.TemplateResponse(request, "workspace.html",
                                      {**_base(reviewer), "document_id": document.id,
                                       "filename": document.filename})


def _base(reviewer: sessions.ReviewPrincipal) -> dict[str, str]:
    return {"csrf_token": reviewer.csrf_token, "who": reviewer.principal.key_name,
            "tenant": reviewer.principal.tenant_name}


def _find(session: Session, reviewer: sessions.ReviewPrincipal, document_id: str) -> Document | None:
    try:
        return tenant_document(session, reviewer.principal, document_id)
    except ServiceError:
        return None


@router.get("/documents/{document_id}/records.xlsx")
async def records_download(document_id: str, reviewer: Reviewer, gate: GateDep) -> Response:
    document, body = await gate.run(lambda session: records_xlsx(session, reviewer.principal, document_id))
    return Response(body, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{document.id}-records.xlsx"'})


@router.get("/documents/{document_id}/report.pdf")
async def report_download(document_id: str, reviewer: Reviewer, gate: GateDep, storage: StorageDep,
                          settings: SettingsDep) -> Response:
    document, gathered = await gate.run(
        lambda session: ready_report_inputs(session, reviewer.principal, document_id))
    pdf = await run_in_threadpool(lambda: render_report(document, gathered, storage, settings))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{document.id}-report.pdf"'})
