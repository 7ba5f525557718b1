"""Hostile clients against a real `fiscalocr serve` on 127.0.0.1 (raw sockets where the transport
matters). Every case must get a typed 4xx in the {code, message, detail} shape - or, for a document that
is accepted and fails later, a job failed with a typed code - never a 5xx, never a hang past its
timeout, and nothing stored for a refused request. The server's memory is sampled throughout; the
peak is printed at the end (docs/benchmarks.md records it)."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
import svc_scans as scans
from hostile_client import (
    MB,
    Answer,
    MemoryWatch,
    chunked,
    exchange,
    multipart,
    read_answer,
    request_head,
    rss_mb,
)
from openpyxl import load_workbook
from pdf_builders import assemble_pdf
from svc_harness import MAX_UPLOAD_BYTES, WEBHOOK_SECRET, Api, Server, new_tenant_api

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
MAX_JSON_BYTES = 16 * MB
SLACK_S = 8.0  # what "no hang past its timeout" allows on a loaded 2-core machine


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("srv-hostile"), extra_env={
        "FISCALOCR_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S), "FISCALOCR_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "FISCALOCR_MAX_JSON_BYTES": str(MAX_JSON_BYTES), "FISCALOCR_DRAIN_MAX_BYTES": str(160 * MB),
        "FISCALOCR_WEBHOOK_SECRET": WEBHOOK_SECRET, "FISCALOCR_MAX_RENDERS_PER_TENANT": "1",
    }).start()
    assert srv.process is not None
    watch = MemoryWatch(srv.process.pid)
    yield srv
    watch.stop()
    print(f"\nhostile suite: API process RSS start {watch.samples[0][1]:.0f} MB, "
          f"peak {watch.peak:.0f} MB, end {watch.samples[-1][1]:.0f} MB ({len(watch.samples)} samples)")
    srv.stop()
    log = srv.log_tail(100000)
    assert "Traceback" not in log and "leaked semaphore" not in log, srv.log_tail()


@pytest.fixture(scope="module")
def tenant(hostile_server: Server) -> Iterator[Api]:
    api = new_tenant_api(hostile_server, "hostile")
    yield api
    api.client.close()


@pytest.fixture(scope="module")
def key(tenant: Api) -> str:
    return str(tenant.client.headers["Authorization"]).split(" ", 1)[1]


def _stored(server: Server, api: Api) -> tuple[int, int, int]:
    """(documents of the tenant, stored files, temp files): what a refused request must not change."""
    files = server.data_dir / "files"
    stored = sum(1 for p in files.rglob("*") if p.is_file() and ".tmp" not in p.parts)
    temp = sum(1 for p in (files / ".tmp").glob("*")) if (files / ".tmp").exists() else 0
    return api.client.get("/v1/documents").json()["total"], stored, temp


@pytest.fixture
def nothing_stored(hostile_server: Server, tenant: Api) -> Iterator[None]:
    before = _stored(hostile_server, tenant)
    yield
    assert _stored(hostile_server, tenant) == before


def _typed(answer: Answer | httpx.Response, status: int | set[int], code: str | set[str] | None = None
           ) -> dict[str, Any]:
    status_code = answer.status if isinstance(answer, Answer) else answer.status_code
    body = answer.json()
    allowed = {status} if isinstance(status, int) else status
    assert status_code in allowed, (status_code, body)
    assert set(body) == {"code", "message", "detail"}, body
    if code is not None:
        assert body["code"] in ({code} if isinstance(code, str) else code), body
    return dict(body)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _upload_head(key: str | None, length: int | None = None, boundary: str = "hostileboundary",
                 extra: dict[str, str] | None = None) -> bytes:
    headers = {**(_auth(key) if key else {}), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    headers |= {"Content-Length": str(length)} if length is not None else {"Transfer-Encoding": "chunked"}
    return request_head("POST", "/v1/documents", headers | (extra or {}))


# -- 1. memory exhaustion without a key; limits on the stream ---------------------------------------

@pytest.mark.parametrize("path", ["/v1/validate", "/v1/documents/fetch", "/v1/documents",
                                  "/v1/documents/x/cells/1"])
def test_chunked_flood_without_a_key_is_refused_before_reading(hostile_server: Server, path: str) -> None:
    assert hostile_server.process is not None
    before = rss_mb(hostile_server.process.pid)
    method = "PATCH" if "cells" in path else "POST"
    head = request_head(method, path, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    answer = exchange(hostile_server.port, head, chunked(96 * MB))
    _typed(answer, 401, "unauthenticated")
    assert rss_mb(hostile_server.process.pid) - before < 40  # was ~+190 MB for 96 MB


@pytest.mark.parametrize("path", ["/v1/validate", "/v1/documents/fetch"])
def test_chunked_json_over_the_limit_with_a_key_is_413(hostile_server: Server, key: str, path: str) -> None:
    assert hostile_server.process is not None
    before = rss_mb(hostile_server.process.pid)
    head = request_head("POST", path, {**_auth(key), "Content-Type": "application/json",
                                       "Transfer-Encoding": "chunked"})
    answer = exchange(hostile_server.port, head, chunked(64 * MB))
    _typed(answer, 413, "payload_too_large")
    assert rss_mb(hostile_server.process.pid) - before < 3 * MAX_JSON_BYTES / MB


def test_chunked_upload_over_the_limit_is_413(hostile_server: Server, key: str, nothing_stored: None) -> None:
    prefix = multipart([("file", "big.pdf", b"%PDF-1.7\n")], close=False)[:-2]
    body = [b"%x\r\n%s\r\n" % (len(prefix), prefix), *chunked(4 * MAX_UPLOAD_BYTES)]
    _typed(exchange(hostile_server.port, _upload_head(key), body), 413, "payload_too_large")


def test_declared_oversize_json_is_refused_at_once(hostile_server: Server, key: str) -> None:
    head = request_head("POST", "/v1/validate", {**_auth(key), "Content-Type": "application/json",
                                                 "Content-Length": str(10 * MAX_JSON_BYTES)})
    answer = exchange(hostile_server.port, head, timeout=10)  # no body sent: the answer must not wait
    _typed(answer, 413, "payload_too_large")


# -- 2. early answers reach a client that sends its whole body first (urllib) ------------------------

@pytest.mark.parametrize(("size_mb", "with_key", "status"), [(1, False, 401), (30, False, 401),
                                                              (110, False, 401), (12, True, 413)])
def test_plain_client_gets_the_early_answer_not_a_reset(hostile_server: Server, key: str, size_mb: int,
                                                        with_key: bool, status: int,
                                                        nothing_stored: None) -> None:
    body = multipart([("file", "x.pdf", b"%PDF-1.7\n" + b"0" * (size_mb * MB))])
    headers = {"Content-Type": "multipart/form-data; boundary=hostileboundary",
               "Authorization": f"Bearer {key if with_key else 'fk_wrong'}"}
    request = urllib.request.Request(f"{hostile_server.url}/v1/documents", data=body, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=60)
    assert caught.value.code == status
    assert set(json.loads(caught.value.read())) == {"code", "message", "detail"}


# -- 3. encrypted PDFs --------------------------------------------------------------------------

def _encrypted_scan(tmp_path: Path, user_password: str, algorithm: str) -> Path:
    source = scans.write_pdf(tmp_path / "plain.pdf")
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = tmp_path / f"enc-{algorithm}-{bool(user_password)}.pdf"
    with out.open("wb") as handle:
        writer.write(handle)
    return out


@pytest.fixture(scope="module")
def permission_only_document(tenant: Api, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A published-report style PDF: AES-256, empty user password (permissions only). It must be read."""
    pdf = _encrypted_scan(tmp_path_factory.mktemp("enc"), "", "AES-256")
    accepted = tenant.upload(pdf)
    assert accepted.status_code == 202, accepted.text
    job = tenant.wait_job(accepted.json()["job_id"])
    assert job["state"] == "succeeded", job
    return str(accepted.json()["document_id"])


def test_permission_only_aes_pdf_is_read(tenant: Api, permission_only_document: str) -> None:
    tables = tenant.client.get(f"/v1/documents/{permission_only_document}/tables").json()["tables"]
    assert tables


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256", "RC4-128"])
def test_pdf_with_a_user_password_fails_typed(tenant: Api, tmp_path: Path, algorithm: str) -> None:
    accepted = tenant.upload(_encrypted_scan(tmp_path, "user-secret", algorithm))
    if accepted.status_code != 202:
        _typed(accepted, 422, "pdf_encrypted")
        return
    job = tenant.wait_job(accepted.json()["job_id"])
    assert job["state"] == "failed" and job["error"]["code"] == "pdf_encrypted", job


# -- 4. export injection --------------------------------------------------------------------------

def _a_cell(api: Api, document_id: str) -> tuple[int, str]:
    table = api.client.get(f"/v1/documents/{document_id}/tables").json()["tables"][0]
    detail = api.client.get(f"/v1/documents/{document_id}/tables/{table['table_id']}").json()
    cell = next(c for c in detail["cells"] if c["text"])
    return int(cell["cell_id"]), str(cell["text"])


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31mred", "12\r\n=1", "line\nbreak", "\u202e0021",
                                  "\u2066x\u2069", "tab\there", "\x7f", "\u200f12"])
def test_control_characters_are_refused_on_patch(tenant: Api, permission_only_document: str,
                                                 text: str) -> None:
    cell_id, before = _a_cell(tenant, permission_only_document)
    answer = tenant.client.patch(f"/v1/documents/{permission_only_document}/cells/{cell_id}",
                                 json={"text": text})
    _typed(answer, 422, "validation_error")
    assert _a_cell(tenant, permission_only_document) == (cell_id, before)


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://127.0.0.1/x","click")', "+1+cmd|' /C calc'!A0",
                                     "@SUM(A1:A9)", "-2+3"])
def test_no_export_cell_is_a_formula(tenant: Api, permission_only_document: str, formula: str) -> None:
    """Whatever text reaches the records (tests/service/test_svc_exports_safety.py checks each kind
    directly), no CSV field and no XLSX cell can be evaluated by a spreadsheet."""
    document = permission_only_document
    table = tenant.client.get(f"/v1/documents/{document}/tables").json()["tables"][0]
    detail = tenant.client.get(f"/v1/documents/{document}/tables/{table['table_id']}").json()
    for cell in [c for c in detail["cells"] if c["row"] >= 1][:4]:
        assert tenant.client.patch(f"/v1/documents/{document}/cells/{cell['cell_id']}",
                                   json={"text": formula}).status_code == 200
    csv_text = tenant.client.get(f"/v1/documents/{document}/records?format=csv").content.decode("utf-8-sig")
    fields = [field for row in csv.reader(io.StringIO(csv_text)) for field in row]
    assert not [f for f in fields if f[:1] in ("=", "+", "@") or (f[:1] == "-" and not _number(f))]
    xlsx = tenant.client.get(f"/v1/documents/{document}/records?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def _number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


# -- 5. leaks and timeouts ------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:9/report.pdf", "http://localhost/report.pdf",
                                 "http://[::1]/r.pdf", "http://0x7f000001/r.pdf", "http://127.1/r.pdf",
                                 "file:///etc/passwd", "gopher://127.0.0.1/x", "http://"])
def test_refused_fetch_leaves_no_temp_file(tenant: Api, url: str, nothing_stored: None) -> None:
    # Loopback only: were the guard broken, nothing would leave this machine.
    _typed(tenant.client.post("/v1/documents/fetch", json={"url": url}), {403, 422},
           {"fetch_refused_address", "validation_error"})


def test_slow_header_connections_are_closed_with_408(hostile_server: Server) -> None:
    results: list[Answer | BaseException] = []

    def slow_client() -> None:
        try:
            partial = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:"
            results.append(exchange(hostile_server.port, partial, timeout=HEADER_TIMEOUT_S + SLACK_S))
        except BaseException as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=slow_client) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert isinstance(result, Answer), result
        _typed(result, 408, "request_timeout")
        assert result.closed and result.elapsed < HEADER_TIMEOUT_S + SLACK_S


def test_silent_connection_is_closed(hostile_server: Server) -> None:
    answer = exchange(hostile_server.port, b"", timeout=HEADER_TIMEOUT_S + SLACK_S)
    _typed(answer, 408, "request_timeout")


@pytest.mark.parametrize("path", ["/v1/validate", "/v1/documents"])
def test_content_length_larger_than_the_body_times_out(hostile_server: Server, key: str, path: str,
                                                       nothing_stored: None) -> None:
    content_type = "application/json" if path == "/v1/validate" else "multipart/form-data; boundary=b"
    start = b'{"tables": [' if path == "/v1/validate" else multipart([("file", "a.pdf", b"%PDF")], "b", False)
    head = request_head("POST", path, {**_auth(key), "Content-Type": content_type, "Content-Length": "5000"})
    answer = exchange(hostile_server.port, head, [start], timeout=BODY_TIMEOUT_S + SLACK_S)
    _typed(answer, 408, "request_timeout")


HTTPX_KEEPALIVE_EXPIRY_S = 5.0  # httpx.Limits' default: how long the soak's client reuses an idle connection


def test_idle_keep_alive_connection_outlives_the_client_expiry(hostile_server: Server) -> None:
    """The soak's resets: uvicorn closed a connection idle for 5 s, httpx reused connections idle for up
    to 5 s, and a request sent as the server closed failed. A connection idle longer than that must still
    answer (the server's keep-alive timeout is the longer one now)."""
    with socket.create_connection(("127.0.0.1", hostile_server.port), timeout=10) as sock:
        head = request_head("GET", "/healthz", {})
        sock.sendall(head)
        assert read_answer(sock, time.monotonic()).status == 200
        time.sleep(HTTPX_KEEPALIVE_EXPIRY_S + 1.0)
        sock.sendall(head)
        answer = read_answer(sock, time.monotonic())
    assert answer.status == 200 and not answer.closed


def test_keep_alive_timeout_default_exceeds_client_and_proxy_idle_expiry() -> None:
    from service.server import server_config
    from service.settings import Settings

    settings = Settings()
    assert settings.keep_alive_timeout_s >= 65  # httpx 5 s, nginx upstream and load balancers 60 s
    assert server_config(None, settings, "127.0.0.1", 0).timeout_keep_alive == settings.keep_alive_timeout_s


# -- 6. multipart, paths, names, shapes ---------------------------------------------------------------

def test_overlong_boundary_is_400(hostile_server: Server, key: str, nothing_stored: None) -> None:
    boundary = "b" * 300
    body = multipart([("file", "x.pdf", b"%PDF-1.7\n")], boundary=boundary)
    answer = exchange(hostile_server.port, _upload_head(key, len(body), boundary), [body])
    _typed(answer, 400, "bad_request")


def test_truncated_multipart_is_refused_and_nothing_stored(hostile_server: Server, key: str,
                                                           nothing_stored: None) -> None:
    body = multipart([("file", "x.pdf", b"%PDF-1.7\n" + b"x" * 50000)], close=False)
    answer = exchange(hostile_server.port, _upload_head(key, len(body)), [body])
    _typed(answer, 400, "bad_request")


def test_large_validate_does_not_stall_the_event_loop(hostile_server: Server, key: str) -> None:
    cells = [{"row": r, "col": c, "text": f"{r}.{c}", "bbox": [0, 0, 1, 1]}
             for r in range(300) for c in range(300)]
    table = {"id": "t1", "page": 1, "bbox": [0, 0, 1, 1], "n_rows": 300, "n_cols": 300, "cells": cells}
    body = json.dumps({"tables": [table] * 2}).encode()
    assert 8 * MB < len(body) < MAX_JSON_BYTES
    worst = 0.0
    done = threading.Event()

    def post() -> None:
        httpx.post(f"{hostile_server.url}/v1/validate", content=body, headers={
            **_auth(key), "Content-Type": "application/json"}, timeout=120)
        done.set()

    thread = threading.Thread(target=post)
    thread.start()
    while not done.is_set():
        start = time.monotonic()
        assert httpx.get(f"{hostile_server.url}/healthz", timeout=30).status_code == 200
        worst = max(worst, time.monotonic() - start)
        time.sleep(0.05)
    thread.join()
    assert worst < 1.0, f"/healthz waited {worst:.2f} s while a large body was validated"  # was 3 s


def test_large_invalid_body_gets_its_errors_back_from_the_child(hostile_server: Server, key: str) -> None:
    cells = [{"row": r, "col": 0, "text": "x" * 20} for r in range(40000)] + [{"row": "not a row", "col": 0}]
    body = json.dumps({"tables": [{"id": "t", "page": 1, "n_rows": 40001, "n_cols": 1, "cells": cells}]})
    assert len(body) > 1024 * 1024  # parsed in the child process (service/validate_pool.py)
    answer = httpx.post(f"{hostile_server.url}/v1/validate", content=body, timeout=120,
                        headers={**_auth(key), "Content-Type": "application/json"})
    error = _typed(answer, 422, "validation_error")
    assert error["detail"][0]["loc"] == ["body", "tables", "0", "cells", "40000", "row"]


def test_page_renders_are_limited_per_tenant(tenant: Api, permission_only_document: str) -> None:
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def render() -> None:
        with httpx.Client(base_url=tenant.server.url, headers=tenant.client.headers, timeout=120) as client:
            response = client.get(f"/v1/documents/{permission_only_document}/pages/1.png",
                                  params={"dpi": 300, "overlay": "grid"})
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=render) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert 200 in statuses and 429 in statuses and set(statuses) <= {200, 429}, statuses
    for answer in answers:
        if answer.status_code == 429:
            _typed(answer, 429, "too_many_renders")


@pytest.mark.parametrize(("content", "code"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "unsupported_format"),  # the decoder's message names the file
    (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\ngarbage" + bytes(range(256)) * 4, "pdf_corrupt"),
])
def test_job_error_does_not_show_server_paths(tenant: Api, hostile_server: Server, content: bytes,
                                              code: str) -> None:
    accepted = tenant.client.post("/v1/documents", files={"file": ("bad.bin", content, "application/pdf")})
    assert accepted.status_code == 202, accepted.text
    job = tenant.wait_job(accepted.json()["job_id"])
    assert job["state"] == "failed" and job["error"]["code"] == code, job
    message = job["error"]["message"]
    assert str(hostile_server.data_dir) not in message and "/files/" not in message and "/tmp" not in message


@pytest.mark.parametrize("name", ["report\u202efdp.exe", "a\u200bb\u2066.pdf", "x\x1b[2J.pdf"])
def test_invisible_and_control_characters_leave_file_names(tenant: Api, tmp_path: Path, name: str) -> None:
    pdf = scans.write_pdf(tmp_path / "named.pdf", first_variant=hash(name) % 50 + 3)
    with pdf.open("rb") as handle:
        accepted = tenant.client.post("/v1/documents", files={"file": (name, handle, "application/pdf")})
    assert accepted.status_code == 202, accepted.text
    stored = tenant.client.get(f"/v1/documents/{accepted.json()['document_id']}").json()["filename"]
    assert not any(ch in stored for ch in "\u202e\u200b\u2066\x1b"), repr(stored)
    tenant.client.post(f"/v1/jobs/{accepted.json()['job_id']}/cancel")


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                                 b"GET /\x00 HTTP/1.1\r\n\r\n",
                                 b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                                 b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                                 b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                 b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                 b"\r\n\r\nzz\r\n"])
def test_malformed_http_gets_the_json_error_shape(hostile_server: Server, raw: bytes) -> None:
    _typed(exchange(hostile_server.port, raw, timeout=SLACK_S), 400, "bad_request")


# -- other kinds of bad input ---------------------------------------------------------------------

def _bomb_png() -> bytes:
    """A 20000 x 20000 1-bit PNG of a few tens of KB (400 Mpx when decoded)."""
    side = 20000
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (side // 8)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload).to_bytes(4, "big")
        return len(payload).to_bytes(4, "big") + kind + payload + crc

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _zero_page_pdf() -> bytes:
    return assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def _gigantic_page_pdf() -> bytes:
    return assemble_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                         b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /UserUnit 75000 >>"])


_BAD_FILES: dict[str, tuple[bytes, set[str]]] = {
    "corrupt": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\ngarbage" + bytes(range(256)) * 4,
                {"pdf_corrupt"}),
    "truncated": (b"", {"pdf_corrupt"}),  # filled in below from a real scan
    "zero-page": (_zero_page_pdf(), {"document_empty", "pdf_corrupt"}),
    "gigantic-page": (_gigantic_page_pdf(), {"page_too_large"}),
    "decompression-bomb": (_bomb_png(), {"page_too_large"}),
    "empty": (b"", {"document_empty"}),
    "zip": (b"PK\x03\x04" + b"\x00" * 200, {"unsupported_format"}),
    "html": (b"<!doctype html><script>alert(1)</script>", {"unsupported_format"}),
    "elf": (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, {"unsupported_format"}),
    "png-header-only": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, {"unsupported_format", "invalid_input"}),
}


@pytest.mark.parametrize("kind", sorted(_BAD_FILES))
def test_bad_files_get_typed_errors(tenant: Api, tmp_path: Path, kind: str) -> None:
    content, codes = _BAD_FILES[kind]
    if kind == "truncated":
        whole = scans.write_pdf(tmp_path / "whole.pdf", first_variant=77).read_bytes()
        content = whole[: len(whole) // 3]
    accepted = tenant.client.post("/v1/documents",
                                  files={"file": (f"{kind}.pdf", content, "application/pdf")})
    if accepted.status_code != 202:
        _typed(accepted, {413, 415, 422}, codes)
        return
    job = tenant.wait_job(accepted.json()["job_id"], timeout=120)
    assert job["state"] == "failed" and job["error"]["code"] in codes, job


_MALFORMED: dict[str, tuple[str, bytes, int, str]] = {
    "no boundary": ("multipart/form-data", b"--x\r\n", 415, "unsupported_media_type"),
    "json instead": ("application/json", b'{"file": "x"}', 415, "unsupported_media_type"),
    "no file part": ("multipart/form-data; boundary=hostileboundary",
                     multipart([("callback_url", None, b"")]), 422, "validation_error"),
    "two file parts": ("multipart/form-data; boundary=hostileboundary",
                       multipart([("file", "a.pdf", b"%PDF-1.7\n"), ("file", "b.pdf", b"%PDF-1.7\n")]),
                       422, "validation_error"),
    "field too long": ("multipart/form-data; boundary=hostileboundary",
                       multipart([("callback_url", None, b"h" * 10000), ("file", "a.pdf", b"%PDF-1.7\n")]),
                       413, "payload_too_large"),
    "too many fields": ("multipart/form-data; boundary=hostileboundary",
                        multipart([(f"f{i}", None, b"v") for i in range(40)]), 413, "payload_too_large"),
    "garbage": ("multipart/form-data; boundary=hostileboundary", b"\x00\xff" * 500, 400, "bad_request"),
    "callback with control chars": ("multipart/form-data; boundary=hostileboundary",
                                    multipart([("callback_url", None, b"http://127.0.0.1/\r\nX: y"),
                                               ("file", "a.pdf", b"%PDF-1.7\n")]), 403,
                                    "fetch_refused_address"),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_multipart_is_refused(hostile_server: Server, key: str, case: str,
                                        nothing_stored: None) -> None:
    content_type, body, status, code = _MALFORMED[case]
    head = request_head("POST", "/v1/documents", {**_auth(key), "Content-Type": content_type,
                                                  "Content-Length": str(len(body))})
    _typed(exchange(hostile_server.port, head, [body]), status, code)


@pytest.mark.parametrize("path", ["/v1/documents/..%2F..%2Fetc%2Fpasswd", "/v1/documents/%00",
                                  "/v1/documents/'%20OR%201=1--", "/v1/documents/" + "a" * 5000,
                                  "/v1/jobs/%E2%80%AE", "/v1/jobs/../../etc/passwd",
                                  "/v1/documents/x/tables/%3Cscript%3E", "/v1/documents/x/pages/0.png",
                                  "/v1/documents/x/records?format=xml", "/v1/documents?limit=-1",
                                  "/v1/documents?offset=99999999999999999999"])
def test_injection_in_ids_and_parameters(tenant: Api, path: str) -> None:
    _typed(tenant.client.get(path), {404, 422}, {"not_found", "validation_error"})


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                           "Bearer " + "k" * 5000, "Bearer fk_\u00e9\u00e8",
                                           "bearer fk_' OR 1=1 --"])
def test_bad_credentials_are_401(hostile_server: Server, authorization: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = b'{"tables": []}'
    head = request_head("POST", "/v1/validate", {**headers, "Content-Type": "application/json",
                                                 "Content-Length": str(len(body))})
    _typed(exchange(hostile_server.port, head, [body]), 401, "unauthenticated")


@pytest.mark.parametrize("body", [b"{", b"[" * 100000, b'{"tables": [{"n_rows": 1e400}]}', b"\xff\xfe",
                                  b'{"tables": "x"}', b'{"tables": [], "extra": 1}', b"null"])
def test_bad_json_is_422(hostile_server: Server, key: str, body: bytes) -> None:
    answer = httpx.post(f"{hostile_server.url}/v1/validate", content=body,
                        headers={**_auth(key), "Content-Type": "application/json"}, timeout=30)
    _typed(answer, 422, "validation_error")


def test_unknown_paths_and_methods_keep_the_shape(hostile_server: Server) -> None:
    _typed(httpx.get(f"{hostile_server.url}/nope", timeout=10), 404, "not_found")
    _typed(httpx.put(f"{hostile_server.url}/healthz", timeout=10), 405, "method_not_allowed")
