"""A digital report through the service: read from its text layer, the `ocr` option checked."""

from __future__ import annotations

from pathlib import Path

import digital_pdfs as fixtures
from svc_harness import Api


def test_digital_upload_is_read_from_its_text_layer(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "digital.pdf"
    path.write_bytes(fixtures.ruled_table_pdf())
    created = api.upload(path)
    assert created.status_code == 202, created.text
    job = api.wait_job(created.json()["job_id"])
    assert job["state"] == "succeeded", job
    document = created.json()["document_id"]
    tables = api.client.get(f"/v1/documents/{document}/tables").json()["tables"]
    assert len(tables) == 1
    detail = api.client.get(f"/v1/documents/{document}/tables/{tables[0]['table_id']}").json()
    assert {cell["source"] for cell in detail["cells"]} == {"text"}
    texts = {(c["row"], c["col"]): c["text"] for c in detail["cells"]}
    assert texts[(2, 2)] == "1,503.52" and texts[(3, 1)] == "人大事务"


def test_unknown_ocr_option_is_refused_and_nothing_stored(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "digital.pdf"
    path.write_bytes(fixtures.ruled_table_pdf())
    refused = api.upload(path, ocr="sometimes")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation_error"
    listing = api.client.get("/v1/documents").json()
    assert listing["total"] == 0


def test_ocr_always_option_reads_the_page_image(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "digital-ocr.pdf"
    path.write_bytes(fixtures.ruled_table_pdf())
    created = api.upload(path, ocr="always")
    assert created.status_code == 202, created.text
    job = api.wait_job(created.json()["job_id"])
    assert job["state"] == "succeeded", job
    document = created.json()["document_id"]
    tables = api.client.get(f"/v1/documents/{document}/tables").json()["tables"]
    detail = api.client.get(f"/v1/documents/{document}/tables/{tables[0]['table_id']}").json()
    assert {cell["source"] for cell in detail["cells"]} == {"ocr"}


def test_findings_say_where_they_point_in_the_api_and_the_exports(api: Api, tmp_path: Path) -> None:
    import io

    from openpyxl import load_workbook

    path = tmp_path / "slip.pdf"  # a template placeholder left in the narrative on page 2
    path.write_bytes(fixtures.budget_report_pdf(2025, "上海市普陀区示范管理局",
                                                ["2025年,上海市XX局财政拨款收入18976.76万元。"]))
    created = api.upload(path)
    assert api.wait_job(created.json()["job_id"])["state"] == "succeeded"
    document = created.json()["document_id"]
    findings = api.client.get(f"/v1/documents/{document}/findings").json()["findings"]
    located = [f for f in findings if f["rule"] == "N.PLACEHOLDER"]
    assert located and all(f["page"] == 2 and len(f["bbox"]) == 4 and "XX局" in f["quote"] for f in located)
    csv_text = api.client.get(f"/v1/documents/{document}/findings?format=csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("rule,severity,message")
    assert len(csv_text.strip().splitlines()) == len(findings) + 1
    xlsx = api.client.get(f"/v1/documents/{document}/records?format=xlsx").content
    workbook = load_workbook(io.BytesIO(xlsx))
    sheet = workbook["findings"]
    header = [c.value for c in next(sheet.iter_rows())]
    assert header[7:10] == ["page", "bbox", "quote"]
    assert sheet.max_row == len(findings) + 1
