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
