"""End to end: ``python -m bench run`` on one fixture with the real RapidOCR pipeline; the img2table adapter.

No accuracy thresholds here (accuracy lives in docs/benchmarks.md): the report must have its
keys, and every figure must be in its possible range.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.peer import run_img2table
from ocr.contract import Extraction

ROOT = Path(__file__).resolve().parents[2]


def _in_range(value: object, low: float, high: float) -> bool:
    return isinstance(value, int | float) and low <= value <= high


def test_bench_run_limit_1_with_rapidocr(tmp_path: Path, scans_dir: Path, shared_dir: Path) -> None:
    out = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--corpus",
            str(scans_dir),
            "--engines",
            "rapidocr",
            "--dpi",
            "200",
            "--peer",
            "",
            "--limit",
            "1",
            "--no-realscans",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fiscalocr/rapidocr@200" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["corpus"]["documents"] == 1 and report["ctdar_pages"] == 1
    assert report["machine"]["cpus"] >= 1
    (row,) = report["configurations"]
    assert (row["system"], row["engine"], row["dpi"]) == ("fiscalocr", "rapidocr", 200)
    assert row["worker_failed"] is None
    corpus = row["corpus"]
    for key in (
        "tables_found_pct",
        "structure_exact_pct",
        "cells_matched_pct",
        "numeric_exact_pct",
        "text_exact_pct",
        "blank_filled_pct",
        "rotation_right_pct",
    ):
        assert _in_range(corpus[key], 0, 100), key
    assert _in_range(corpus["cer"], 0, 10)
    assert corpus["tables_truth"] == 1 and corpus["pages"] == 1
    assert row["speed"]["pages"] == 1
    assert _in_range(row["speed"]["median_s_per_page"], 0.01, 400)
    assert _in_range(row["speed"]["pages_per_s"], 0.0, 100)
    assert _in_range(row["peak_rss_mb"], 20, 16_000)
    assert _in_range(row["ctdar"]["f1"], 0, 1) and row["ctdar"]["relations"] > 0
    assert row["realscans"] is None
    assert [d["name"] for d in row["per_document"]] == ["gongkai01-300dpi-light"]


def test_img2table_adapter_returns_our_table_model(shared_dir: Path) -> None:
    image = shared_dir / "realdata" / "scans" / "shiquan-2026-sangong-table.png"
    extraction, seconds = run_img2table(image, 200)
    parsed = Extraction.model_validate(extraction)
    assert len(seconds) == 1 and seconds[0] > 0
    assert parsed.pages[0].width_px == 1684
    for table in parsed.tables:
        slots = [
            (r, c)
            for cell in table.cells
            for r in range(cell.row, cell.row + cell.row_span)
            for c in range(cell.col, cell.col + cell.col_span)
        ]
        assert len(slots) == len(set(slots))  # repeated merged cells became one cell with spans
        assert all(0 <= r < table.n_rows and 0 <= c < table.n_cols for r, c in slots)
