"""End to end through the real pipeline: upload -> poll -> results equal the library's own output,
exports, page images, corrections, failures, cancellation and resuming after a crash."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from svc_expect import api_tables, dump, with_cell_text
from svc_harness import Api, Server, new_tenant_api
from svc_scans import write_pdf


@pytest.fixture(scope="module")
def processed(server: Server, scanned_pdf: Path) -> tuple[Api, dict[str, Any]]:
    """One tenant's copy of the scanned report, processed to the end."""
    api = new_tenant_api(server, "reviewers")
    created = api.upload(scanned_pdf, callback_url="http://127.0.0.1:9/hook")
    assert created.status_code == 202, created.text
    job = api.wait_job(created.json()["job_id"])
    assert job["state"] == "succeeded", job
    return api, created.json()


def test_results_equal_the_library_output(processed: tuple[Api, dict[str, Any]], library_result: Any) -> None:
    api, created = processed
    doc = created["document_id"]
    job = api.client.get(f"/v1/jobs/{created['job_id']}").json()
    assert job["pages_done"] == job["pages_total"] == 1
    assert job["error"] is None and job["started_at"] and job["finished_at"]
    records = api.client.get(f"/v1/documents/{doc}/records").json()["records"]
    findings = api.client.get(f"/v1/documents/{doc}/findings").json()["findings"]
    assert records == dump(library_result.records)
    assert findings == dump(library_result.findings)
    assert dump(api_tables(api, doc)) == dump(library_result.tables)
    detail = api.client.get(f"/v1/documents/{doc}").json()
    assert detail["status"] == "succeeded" and detail["pages"] == 1
    assert detail["summary"]["tables"] == len(library_result.tables)
    assert detail["summary"]["records"] == len(library_result.records)
    assert sum(detail["summary"]["findings_by_severity"].values()) == len(library_result.findings)


def test_record_filters_and_downloads(processed: tuple[Api, dict[str, Any]]) -> None:
    api, created = processed
    base = f"/v1/documents/{created['document_id']}/records"
    records = api.client.get(base).json()["records"]
    assert records, "the fixture table should yield records"
    coded = next(r for r in records if r["code"])
    only = api.client.get(base, params={"code": coded["code"]}).json()["records"]
    assert only and all(r["code"] == coded["code"] for r in only)
    assert api.client.get(base, params={"form": "no-such-form"}).json()["records"] == []

    as_csv = api.client.get(base, params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(rows) == len(records) + 1
    header = rows[0]
    assert [row[header.index("code")] for row in rows[1:]] == [r["code"] or "" for r in records]

    as_xlsx = api.client.get(base, params={"format": "xlsx"})
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in cells[0]] == header
    field_columns = [name for name in header if name in coded["fields"]]
    for name in field_columns:  # amounts stay the decimal strings of the JSON, not floats
        values = [row[header.index(name)] or "" for row in cells[1:]]
        assert values == [r["fields"].get(name) or "" for r in records]
        assert all(isinstance(v, str) for v in values)


def test_page_image_with_grid_overlay(processed: tuple[Api, dict[str, Any]]) -> None:
    from PIL import Image

    api, created = processed
    base = f"/v1/documents/{created['document_id']}/pages"
    plain = api.client.get(f"{base}/1.png", params={"dpi": 100})
    grid = api.client.get(f"{base}/1.png", params={"dpi": 100, "overlay": "grid"})
    assert plain.status_code == grid.status_code == 200
    assert plain.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(grid.content))
    assert abs(image.width - 827) <= 2 and abs(image.height - 1170) <= 2  # A4 at 100 dpi
    assert plain.content != grid.content
    assert api.client.get(f"{base}/2.png").status_code == 404


def test_cell_correction_recomputes_records_and_findings(processed: tuple[Api, dict[str, Any]],
                                                         library_result: Any) -> None:
    from service import fiscal_bridge

    api, created = processed
    doc = created["document_id"]
    records = api.client.get(f"/v1/documents/{doc}/records").json()["records"]
    record = next(r for r in records if r["cells"])
    row, col = next(iter(record["cells"].values()))
    table = api.client.get(f"/v1/documents/{doc}/tables/{record['table']}").json()
    cell = next(c for c in table["cells"] if (c["row"], c["col"]) == (row, col))

    before = library_result.model_copy(update={"tables": api_tables(api, doc), "records": [], "findings": []})
    expected = fiscal_bridge.enrich(with_cell_text(before, record["table"], row, col, "99999.99"))

    response = api.client.patch(f"/v1/documents/{doc}/cells/{cell['cell_id']}", json={"text": "99999.99"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cell"]["text"] == "99999.99" and body["cell"]["corrected"] is True
    assert body["correction"]["old"] == cell["text"] and body["correction"]["new"] == "99999.99"
    assert body["correction"]["who"].endswith("-reviewer")
    assert datetime.fromisoformat(body["correction"]["at"]) <= datetime.now(UTC)
    after = api.client.get(f"/v1/documents/{doc}/records").json()["records"]
    assert after == dump(expected.records)
    assert after != records
    assert api.client.get(f"/v1/documents/{doc}/findings").json()["findings"] == dump(expected.findings)
    assert api.client.get(f"/v1/documents/{doc}").json()["summary"]["corrections"] == 1
    assert api.client.patch(f"/v1/documents/{doc}/cells/999999999", json={"text": "1"}).status_code == 404
    bad = api.client.patch(f"/v1/documents/{doc}/cells/{cell['cell_id']}", json={"txt": "1"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_validate_endpoint_matches_the_fiscal_layer(api: Api, library_result: Any) -> None:
    from service import fiscal_bridge

    records, findings = fiscal_bridge.validate_tables(library_result.tables)
    for body in ({"tables": dump(library_result.tables)}, library_result.model_dump(mode="json")):
        response = api.client.post("/v1/validate", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"records": dump(records), "findings": dump(findings)}
    bad = api.client.post("/v1/validate", json={"tables": [{"id": "t0"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_corrupt_pdf_fails_the_job_with_a_code(api: Api, corrupt_pdf: Path) -> None:
    created = api.upload(corrupt_pdf)
    if created.status_code != 202:  # refused at the door is fine too, with the same code
        assert created.json()["code"] == "pdf_corrupt"
        return
    job = api.wait_job(created.json()["job_id"], timeout=60)
    assert job["state"] == "failed"
    assert job["error"]["code"] == "pdf_corrupt", job
    tables = api.client.get(f"/v1/documents/{created.json()['document_id']}/tables")
    assert tables.status_code == 409 and tables.json()["code"] == "document_not_ready"


def test_cancel_stops_between_pages(api: Api, scan_dir: Path) -> None:
    path = write_pdf(scan_dir / "cancel-me.pdf", pages=3, first_variant=20)
    created = api.upload(path).json()
    response = api.client.post(f"/v1/jobs/{created['job_id']}/cancel")
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "cancelled"
    time.sleep(3)
    job = api.client.get(f"/v1/jobs/{created['job_id']}").json()
    assert job["state"] == "cancelled"
    assert job["pages_total"] == 0 or job["pages_done"] < job["pages_total"]
    again = api.client.post(f"/v1/jobs/{created['job_id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job_finished"
    # Uploading the same file again after a cancel starts a fresh job for the same document.
    retry = api.upload(path).json()
    assert retry["document_id"] == created["document_id"] and retry["job_id"] != created["job_id"]
    assert retry["duplicate"] is True
    assert api.client.post(f"/v1/jobs/{retry['job_id']}/cancel").status_code == 202


def test_restart_mid_job_resumes_without_redoing_pages(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        api = new_tenant_api(server)
        created = api.upload(write_pdf(tmp_path / "long.pdf", pages=3, first_variant=40)).json()
        api.wait_job(created["job_id"], until=lambda j: j["pages_done"] >= 1 or (j["state"] != "running"
                     and j["state"] != "queued"))
        server.stop(kill=True)  # no graceful shutdown: the job is left "running"
        killed_at = datetime.now(UTC)
        first_pages = _stored_pages(server, created["job_id"])
        assert 1 <= len(first_pages) < 3, "the kill should land mid-job"
        server.start()
        job = Api(server, api.client.headers["Authorization"].split()[1]).wait_job(created["job_id"])
        assert job["state"] == "succeeded", job
        assert job["pages_done"] == job["pages_total"] == 3 and job["attempts"] == 2
        pages = _stored_pages(server, created["job_id"])
        assert sorted(pages) == [1, 2, 3]
        for number, stored_at in first_pages.items():  # pages read before the crash were not redone
            assert pages[number] == stored_at and stored_at < killed_at
    finally:
        server.stop()


def _stored_pages(server: Server, job_id: str) -> dict[int, datetime]:
    with sqlite3.connect(server.data_dir / "fiscalocr.db") as conn:
        query = "SELECT page_number, created_at FROM pageresult WHERE job_id = ?"
        rows = conn.execute(query, (job_id,)).fetchall()
    return {n: datetime.fromisoformat(t).replace(tzinfo=UTC) for n, t in rows}


def test_webhook_delivery_log_is_tenant_scoped(processed: tuple[Api, dict[str, Any]], server: Server) -> None:
    """The fixture's callback (127.0.0.1:9, allow-listed, nothing listens) fails; every attempt is logged."""
    import time

    api, created = processed
    path = f"/v1/jobs/{created['job_id']}/deliveries"
    deadline = time.monotonic() + 30
    while not (log := api.client.get(path).json())["deliveries"]:
        assert time.monotonic() < deadline, log
        time.sleep(0.2)
    assert log["job_id"] == created["job_id"] and log["callback_url"] == "http://127.0.0.1:9/hook"
    first = log["deliveries"][0]
    assert first["attempt"] == 1 and first["url"] == "http://127.0.0.1:9/hook"
    assert first["delivered"] is False and first["status_code"] is None and first["error"]
    assert first["finished_at"] >= first["started_at"]
    outsider = new_tenant_api(server, "outsider")
    assert outsider.client.get(path).status_code == 404
    outsider.client.close()


def test_killing_the_server_alone_leaves_no_orphan_page_workers(tmp_path: Path) -> None:
    """SIGKILL to the server process only (not its group): its OCR pool workers must die with it."""
    import os
    import signal
    import time

    server = Server(tmp_path).start()
    try:
        api = new_tenant_api(server)
        created = api.upload(write_pdf(tmp_path / "long.pdf", pages=3, first_variant=50)).json()
        api.wait_job(created["job_id"], until=lambda j: j["pages_done"] >= 1 or j["state"] not in
                     ("running", "queued"))
        assert server.process is not None
        group = server.process.pid  # started with a new session: group id == server pid
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while True:
            try:
                os.killpg(group, 0)  # anything left in the server's process group?
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "page workers outlived the killed server"
            time.sleep(0.2)
    finally:
        server.stop()
