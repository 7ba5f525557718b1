"""The review page's security and its API side, against a real `fiscalocr serve` on 127.0.0.1:
cookie flags, CSRF on every state-changing request (nothing changes without the token), a CSP that
allows only the app's own origin, tenant isolation, sign-out and key revocation ending a session;
approvals, undo and the annotated report over the /v1 API."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from netguard_fixture import LocalHTTPServer, respond
from review_scan import COL, RIGHT, ROW, WRONG, write_misprinted_pdf
from svc_harness import Api, Server
from svc_scans import write_pdf

CSRF_RE = re.compile(r'name="csrf[-_]token" (?:value|content)="([^"]+)"')


class Reviewer:
    """A signed-in browser-like client of the review page (cookies kept by httpx)."""

    def __init__(self, server: Server, key: str) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=60, trust_env=False)
        login = self.client.get("/review")
        token = CSRF_RE.search(login.text)
        assert token, login.text
        self.response = self.client.post("/review/login", data={"api_key": key, "csrf_token": token.group(1)})
        page = self.client.get("/review/documents")
        found = CSRF_RE.search(page.text)
        self.csrf = found.group(1) if found else ""

    def send(self, method: str, path: str, *, csrf: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        return self.client.request(method, path, headers=headers, **kwargs)


def _processed(server: Server, tmp: Path, prefix: str) -> tuple[Api, str, str]:
    key = server.new_key(f"{prefix}-{uuid.uuid4().hex[:8]}")
    api = Api(server, key)
    accepted = api.upload(write_misprinted_pdf(tmp / f"{prefix}.pdf")).json()
    assert api.wait_job(accepted["job_id"])["state"] == "succeeded"
    return api, accepted["document_id"], key


@pytest.fixture(scope="module")
def misprint(server: Server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Api, str, str]:
    return _processed(server, tmp_path_factory.mktemp("sec"), "sec")


def _cell(api: Api, document_id: str, row: int = ROW, col: int = COL) -> dict[str, Any]:
    detail = api.client.get(f"/v1/documents/{document_id}/tables/t0").json()
    return next(c for c in detail["cells"] if (c["row"], c["col"]) == (row, col))


def _set_cookie(response: httpx.Response, name: str) -> str | None:
    return next((h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")), None)


def test_sign_in_sets_a_hardened_cookie_and_needs_the_login_token(server: Server) -> None:
    key = server.new_key(f"login-{uuid.uuid4().hex[:8]}")
    client = httpx.Client(base_url=server.url, timeout=30, trust_env=False)
    page = client.get("/review")
    assert page.status_code == 200 and 'name="api_key"' in page.text
    refused = client.post("/review/login", data={"api_key": key})  # no CSRF token
    assert refused.status_code == 403 and _set_cookie(refused, "fiscalocr_session") is None
    token = CSRF_RE.search(client.get("/review").text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/review/login", data={"api_key": "fk_wrong", "csrf_token": token})
    assert wrong.status_code == 401 and _set_cookie(wrong, "fiscalocr_session") is None

    reviewer = Reviewer(server, key)
    assert reviewer.response.status_code == 303
    assert reviewer.response.headers["location"] == "/review/documents"
    cookie = _set_cookie(reviewer.response, "fiscalocr_session")
    assert cookie is not None
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=strict"
    assert flags["path"] == "Path=/review" and "expires" in flags
    assert "secure" not in flags  # plain http on loopback: a Secure cookie would never come back
    assert reviewer.csrf and key not in cookie


def test_cookie_is_secure_over_https(tmp_path: Path) -> None:
    """The app itself, in process, reached over https (as behind a TLS-terminating proxy)."""
    import anyio

    from service.app import create_app
    from service.auth import create_key
    from service.db import make_engine, session_scope, upgrade
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path, workers=1)
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    with session_scope(engine) as session:
        key, _ = create_key(session, "https-tenant")
    engine.dispose()
    app = create_app(settings, configure_logs=False)

    async def sign_in() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            token = CSRF_RE.search((await client.get("/review")).text).group(1)  # type: ignore[union-attr]
            return await client.post("/review/login", data={"api_key": key, "csrf_token": token})

    response = anyio.run(sign_in)
    app.state.engine.dispose()
    cookie = _set_cookie(response, "fiscalocr_session")
    assert response.status_code == 303 and cookie is not None and "; secure" in cookie.lower()


def test_state_changing_requests_without_the_csrf_token_are_refused(
        server: Server, misprint: tuple[Api, str, str]) -> None:
    api, document_id, key = misprint
    reviewer = Reviewer(server, key)
    cell = _cell(api, document_id)
    base = f"/review/api/documents/{document_id}"
    for token in (None, "", "not-the-token"):
        patch = reviewer.send("PATCH", f"{base}/cells/{cell['cell_id']}", csrf=token, json={"text": RIGHT})
        assert patch.status_code == 403 and patch.json()["code"] == "csrf_failed"
        approve = reviewer.send("POST", f"{base}/approvals", csrf=token, json={})
        assert approve.status_code == 403 and approve.json()["code"] == "csrf_failed"
    upload = reviewer.send("POST", "/review/api/documents",
                           files={"file": ("x.pdf", write_misprinted_pdf(Path(f"/tmp/{uuid.uuid4().hex}.pdf"))
                                           .read_bytes(), "application/pdf")})
    assert upload.status_code == 403
    fetch = reviewer.send("POST", "/review/api/documents/fetch", json={"url": "http://127.0.0.1:1/x.pdf"})
    assert fetch.status_code == 403
    logout = reviewer.client.post("/review/logout", data={})
    assert logout.status_code == 403
    # nothing was stored by the refused requests
    assert _cell(api, document_id)["text"] == WRONG
    assert api.client.get("/v1/documents").json()["total"] == 1
    assert api.client.get(f"/v1/documents/{document_id}/review").json()["document"]["approved"] is False
    # and the same requests with the token work (the session survived the refused sign-out)
    ok = reviewer.send("PATCH", f"{base}/cells/{cell['cell_id']}", csrf=reviewer.csrf, json={"text": RIGHT})
    assert ok.status_code == 200 and ok.json()["findings"] == []
    correction = ok.json()["corrections"][0]["correction_id"]
    undo = reviewer.send("POST", f"{base}/corrections/{correction}/undo", csrf=reviewer.csrf)
    assert undo.status_code == 200 and len(undo.json()["findings"]) == 2


def _csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def test_every_review_response_carries_a_same_origin_csp(server: Server,
                                                          misprint: tuple[Api, str, str]) -> None:
    _, document_id, key = misprint
    reviewer = Reviewer(server, key)
    for path in ("/review", "/review/documents", f"/review/documents/{document_id}",
                 "/review/static/workspace.js", "/review/api/documents", "/review/documents/nope"):
        response = reviewer.client.get(path)
        policy = _csp(response)
        assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
        assert all(set(sources) <= {"'self'", "'none'"} for sources in policy.values()), policy
        assert response.headers["x-content-type-options"] == "nosniff"
    page = reviewer.client.get(f"/review/documents/{document_id}").text
    assert "<script>" not in page and " style=" not in page
    assert not re.search(r'(src|href|action)="(https?:)?//', page)  # every asset from the app itself


def test_other_tenants_documents_are_404_and_sessions_end(server: Server,
                                                          misprint: tuple[Api, str, str]) -> None:
    api, document_id, _ = misprint
    cell = _cell(api, document_id)
    outsider_key = server.new_key(f"outsider-{uuid.uuid4().hex[:8]}")
    outsider = Reviewer(server, outsider_key)
    page = outsider.client.get(f"/review/documents/{document_id}")
    assert page.status_code == 404 and 'id="not-found"' in page.text
    for method, path in (("GET", f"/review/api/documents/{document_id}"),
                         ("PATCH", f"/review/api/documents/{document_id}/cells/{cell['cell_id']}"),
                         ("GET", f"/review/documents/{document_id}/report.pdf"),
                         ("GET", f"/review/documents/{document_id}/records.xlsx")):
        body = {"text": "1"} if method == "PATCH" else None
        response = outsider.send(method, path, csrf=outsider.csrf, json=body)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert _cell(api, document_id)["text"] == cell["text"]

    stolen = outsider.client.cookies.get("fiscalocr_session")
    assert outsider.client.post("/review/logout", data={"csrf_token": outsider.csrf}).status_code == 303
    replay = httpx.get(f"{server.url}/review/api/documents", cookies={"fiscalocr_session": stolen or ""})
    assert replay.status_code == 401
    tampered = (stolen or "").rsplit(".", 2)
    stretched = f"{tampered[0]}.{int(tampered[1]) + 10_000}.{tampered[2]}"
    assert httpx.get(f"{server.url}/review/api/documents",
                     cookies={"fiscalocr_session": stretched}).status_code == 401

    revoked = Reviewer(server, key := server.new_key(f"revoked-{uuid.uuid4().hex[:8]}"))
    assert revoked.client.get("/review/api/documents").status_code == 200
    _revoke(server, key)
    assert revoked.client.get("/review/api/documents").status_code == 401
    assert revoked.client.get("/review/documents").status_code == 303  # back to sign-in


def _revoke(server: Server, key: str) -> None:
    from sqlmodel import select

    from models import ApiKey
    from service.auth import hash_key, revoke_key
    from service.db import make_engine, session_scope

    engine = make_engine(server.db_url)
    with session_scope(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).one()
        revoke_key(session, row.id or 0)
    engine.dispose()


def test_expired_or_forged_session_values_are_refused() -> None:
    from datetime import UTC, datetime, timedelta

    from service.review.session import sign_value, verify_value

    now = datetime.now(UTC)
    value = sign_value(b"k" * 32, "token", now + timedelta(minutes=5))
    assert verify_value(b"k" * 32, value, now) == "token"
    assert verify_value(b"k" * 32, value, now + timedelta(minutes=6)) is None
    assert verify_value(b"other" * 8, value, now) is None
    assert verify_value(b"k" * 32, value.replace("token", "tokem"), now) is None


@pytest.fixture(scope="module")
def api_doc(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str]]:
    api, document_id, _ = _processed(server, tmp_path_factory.mktemp("api"), "api")
    yield api, document_id


def test_approvals_corrections_and_undo_over_the_api(api_doc: tuple[Api, str]) -> None:
    api, document_id = api_doc
    base = f"/v1/documents/{document_id}"
    review = api.client.post(f"{base}/approvals", json={"table": "t0"}).json()
    assert review["tables"]["t0"]["approved"] and review["state"] == "in_review"
    assert api.client.post(f"{base}/approvals", json={"table": "t9"}).json()["code"] == "not_found"
    cell = _cell(api, document_id)
    assert api.client.patch(f"{base}/cells/{cell['cell_id']}", json={"text": RIGHT}).status_code == 200
    review = api.client.get(f"{base}/review").json()
    assert review["tables"]["t0"] == {**review["tables"]["t0"], "approved": False, "stale": True}
    first = review["corrections"][0]
    assert (first["old"], first["new"], first["undoable"]) == (WRONG, RIGHT, True)
    undone = api.client.post(f"{base}/corrections/{first['correction_id']}/undo").json()
    assert undone["corrections"][0]["new"] == WRONG and len(undone["corrections"]) == 2
    assert _cell(api, document_id)["text"] == WRONG
    assert len(api.client.get(f"{base}/findings").json()["findings"]) == 2
    again = api.client.post(f"{base}/corrections/{first['correction_id']}/undo")
    assert again.status_code == 409 and again.json()["code"] == "correction_superseded"
    approved = api.client.post(f"{base}/approvals", json={}).json()
    assert approved["state"] == "approved"
    withdrawn = api.client.delete(f"{base}/approvals").json()
    assert withdrawn["state"] == "in_review"


def test_annotated_report_over_the_api(api_doc: tuple[Api, str], server: Server, tmp_path: Path) -> None:
    api, document_id = api_doc
    response = api.client.get(f"/v1/documents/{document_id}/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    findings = api.client.get(f"/v1/documents/{document_id}/findings").json()["findings"]
    assert "审核标注报告" in text and f"错误 {len(findings)} 条" in text
    for number, finding in enumerate(findings, start=1):
        assert f"{number}. 【错误】{finding['rule']}" in text
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+2", pages)  # the page, then the summary
    stranger = Api(server, server.new_key(f"stranger-{uuid.uuid4().hex[:8]}"))
    assert stranger.client.get(f"/v1/documents/{document_id}/report.pdf").status_code == 404


def test_an_approved_document_can_still_be_deleted(api_doc: tuple[Api, str]) -> None:
    api, document_id = api_doc
    assert api.client.post(f"/v1/documents/{document_id}/approvals", json={}).status_code == 200
    assert api.client.delete(f"/v1/documents/{document_id}").status_code == 204
    assert api.client.get(f"/v1/documents/{document_id}/review").status_code == 404


def test_list_filters_and_fetch_by_url_from_the_page(server: Server, http_server: LocalHTTPServer,
                                                     misprint: tuple[Api, str, str], tmp_path: Path) -> None:
    api, document_id, key = misprint
    reviewer = Reviewer(server, key)
    clean = write_pdf(tmp_path / "clean.pdf", first_variant=51).read_bytes()
    http_server.routes[("GET", "/clean.pdf")] = lambda h: respond(h, 200, clean)
    fetched = reviewer.send("POST", "/review/api/documents/fetch", csrf=reviewer.csrf,
                            json={"url": http_server.url("/clean.pdf")})
    assert fetched.status_code == 202, fetched.text
    api.wait_job(fetched.json()["job_id"])
    refused = reviewer.send("POST", "/review/api/documents/fetch", csrf=reviewer.csrf,
                            json={"url": "http://169.254.169.254/latest/x.pdf"})
    assert refused.status_code == 403 and refused.json()["code"] == "fetch_refused_address"

    def ids(**params: str) -> set[str]:
        listing = reviewer.client.get("/review/api/documents", params=params).json()
        return {item["document_id"] for item in listing["items"]}

    everything = ids()
    assert everything == {document_id, fetched.json()["document_id"]}
    assert ids(severity="error") == {document_id}
    assert ids(form="公开05表") == everything and ids(form="公开01表") == set()
    assert ids(state="succeeded") == everything and ids(state="running") == set()
    assert api.client.post(f"/v1/documents/{document_id}/approvals", json={}).status_code == 200
    assert ids(state="approved") == {document_id}
    assert ids(state="open") == {fetched.json()["document_id"]}
    item = next(i for i in reviewer.client.get("/review/api/documents").json()["items"]
                if i["document_id"] == document_id)
    assert item["findings"]["error"] == 2 and item["pages"] == 1 and item["job"]["pages_done"] == 1
    assert api.client.delete(f"/v1/documents/{document_id}/approvals").status_code == 200


@pytest.mark.postgres
def test_review_page_flow_on_postgresql(pg_server: Server, tmp_path: Path) -> None:
    """The same session, list, correction, approval and report paths on PostgreSQL."""
    api, document_id, key = _processed(pg_server, tmp_path, "pg")
    reviewer = Reviewer(pg_server, key)
    listing = reviewer.client.get("/review/api/documents", params={"severity": "error", "form": "公开05表"})
    assert [i["document_id"] for i in listing.json()["items"]] == [document_id]
    cell = _cell(api, document_id)
    base = f"/review/api/documents/{document_id}"
    fixed = reviewer.send("PATCH", f"{base}/cells/{cell['cell_id']}", csrf=reviewer.csrf,
                          json={"text": RIGHT})
    assert fixed.status_code == 200 and fixed.json()["findings"] == []
    approved = reviewer.send("POST", f"{base}/approvals", csrf=reviewer.csrf, json={"table": "t0"}).json()
    assert approved["review"]["tables"]["t0"]["approved"] is True
    report = reviewer.client.get(f"/review/documents/{document_id}/report.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    assert reviewer.client.post("/review/logout", data={"csrf_token": reviewer.csrf}).status_code == 303
    assert reviewer.client.get(base).status_code == 401
