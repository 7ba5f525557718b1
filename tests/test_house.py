"""The house rules, checked on every run: layers and cycles (import-linter), complexity (radon), function
length, one meaning per class name. Each fails with the offending names."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr", "fiscal", "service", "models", "bench")
MAX_COMPLEXITY = 20
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in p.parts]


def test_layers_and_no_import_cycles() -> None:
    """service -> fiscal -> ocr; models for the service only; no cycles (contracts in pyproject.toml)."""
    lint = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or shutil.which("lint-imports")
    assert lint, "import-linter is a locked dev dependency: bash scripts/setup.sh"
    run = subprocess.run([lint, "--no-cache"], check=False, cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_no_block_above_the_complexity_ceiling() -> None:
    over = [f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
            for path in _sources() for block in cc_visit(path.read_text(encoding="utf-8"))
            if block.complexity > MAX_COMPLEXITY]
    assert over == []


def test_no_function_longer_than_sixty_lines() -> None:
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def _class_names(package: str) -> set[str]:
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in sorted((ROOT / package).rglob("*.py"))]
    return {node.name for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def test_no_class_name_means_two_things() -> None:
    """A database row and a contract object never share a name (``TableRow`` vs ``ocr.contract.Table``)."""
    assert _class_names("models") & (_class_names("ocr") | _class_names("fiscal")) == set()
