"""Year over year in the service: a report is checked against the same department's report of the
year before when the tenant has it (N.PRIOR), and not against another department's."""

from __future__ import annotations

from pathlib import Path

import digital_pdfs as fixtures
from svc_harness import Api

DEPARTMENT = "上海市普陀区示范管理局"


def _process(api: Api, path: Path, data: bytes) -> str:
    path.write_bytes(data)
    created = api.upload(path)
    assert created.status_code == 202, created.text
    assert api.wait_job(created.json()["job_id"])["state"] == "succeeded"
    return str(created.json()["document_id"])


def _rules(api: Api, document: str) -> list[str]:
    return [f["rule"] for f in api.client.get(f"/v1/documents/{document}/findings").json()["findings"]]


def test_stated_change_is_checked_against_last_years_report(api: Api, tmp_path: Path) -> None:
    _process(api, tmp_path / "2024.pdf", fixtures.budget_report_pdf(
        2024, DEPARTMENT, ["2024年,财政拨款收入15621.11万元。"]))
    wrong = _process(api, tmp_path / "2025.pdf", fixtures.budget_report_pdf(
        2025, DEPARTMENT, ["2025年,财政拨款收入18976.76万元,比2024年预算增加3155.65万元。"]))
    right = _process(api, tmp_path / "2025b.pdf", fixtures.budget_report_pdf(
        2025, DEPARTMENT, ["2025年,财政拨款收入18976.76万元,比2024年预算增加3355.65万元。"]))
    assert "N.PRIOR" in _rules(api, wrong)
    assert "N.PRIOR" not in _rules(api, right)
    prior = next(f for f in api.client.get(f"/v1/documents/{wrong}/findings").json()["findings"]
                 if f["rule"] == "N.PRIOR")
    assert prior["page"] == 2 and "3155.65" in prior["quote"]


def test_another_departments_report_is_not_last_year(api: Api, tmp_path: Path) -> None:
    _process(api, tmp_path / "2024.pdf", fixtures.budget_report_pdf(
        2024, "上海市普陀区另一个局", ["2024年,财政拨款收入15621.11万元。"]))
    this_year = _process(api, tmp_path / "2025.pdf", fixtures.budget_report_pdf(
        2025, DEPARTMENT, ["2025年,财政拨款收入18976.76万元,比2024年预算增加3155.65万元。"]))
    assert "N.PRIOR" not in _rules(api, this_year)
