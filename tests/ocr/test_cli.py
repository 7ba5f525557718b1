"""CLI: contract JSON out, typed errors -> stable code on stderr and exit 2/3, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from ocr import contract_schema
from ocr.cli import main, parse_page_spec
from ocr.contract import Extraction
from ocr.errors import InvalidPageRangeError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("spec", "pages"), [("1-5,7", (1, 2, 3, 4, 5, 7)), ("3", (3,)), ("2,1,2", (1, 2)),
                                             (" 4 - 5 ", (4, 5))])
def test_parse_page_spec(spec: str, pages: tuple[int, ...]) -> None:
    assert parse_page_spec(spec) == pages


@pytest.mark.parametrize("spec", ["", "0", "5-3", "a-b", "1,,x", "-2"])
def test_parse_page_spec_rejects(spec: str) -> None:
    with pytest.raises(InvalidPageRangeError):
        parse_page_spec(spec)


def test_extract_writes_contract_json(tmp_path: Path, multipage_pdf: Path) -> None:
    out = tmp_path / "out.json"
    assert main(["extract", str(multipage_pdf), "--out", str(out), "--pages", "2", "--dpi", "100"]) == 0
    result = Extraction.model_validate_json(out.read_text(encoding="utf-8"))
    assert [p.number for p in result.pages] == [2]


def test_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], multipage_pdf: Path) -> None:
    bogus = tmp_path / "x.pdf"
    bogus.write_text("hello")
    assert main(["extract", str(bogus)]) == 2
    assert "[unsupported_format]" in capsys.readouterr().err
    assert main(["extract", str(multipage_pdf), "--pages", "9"]) == 2
    assert "[invalid_page_range]" in capsys.readouterr().err
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("pw")
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    assert main(["extract", str(locked)]) == 2
    assert "[pdf_encrypted]" in capsys.readouterr().err


def test_subprocess_error_has_code_and_no_traceback(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Ty")
    done = subprocess.run([sys.executable, "-m", "ocr", "extract", str(truncated)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "[pdf_corrupt]" in done.stderr or "[document_empty]" in done.stderr
    assert "Traceback" not in done.stderr


def test_schema_command_matches_committed_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == contract_schema()
    committed = json.loads((ROOT / "openapi" / "extraction.schema.json").read_text(encoding="utf-8"))
    assert committed == printed
