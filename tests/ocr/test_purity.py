"""ocr/ is a pure library: it never imports the service, the models or the fiscal layer."""

from __future__ import annotations

import ast
from pathlib import Path

OCR = Path(__file__).resolve().parents[2] / "ocr"
FORBIDDEN = {"service", "models", "fiscal"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_ocr_imports_nothing_above_it() -> None:
    files = sorted(OCR.rglob("*.py"))
    assert len(files) >= 10
    offenders = {str(f.relative_to(OCR)): _imported_roots(f) & FORBIDDEN for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}
