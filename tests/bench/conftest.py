"""Fixtures for the benchmark suite: committed scan fixtures; real data is read in place from ../shared."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ is on sys.path, where tests/bench could shadow the bench package as a namespace package.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if "bench" in sys.modules and getattr(sys.modules["bench"], "__file__", None) is None:
    del sys.modules["bench"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def scans_dir() -> Path:
    return FIXTURES / "scans"


@pytest.fixture(scope="session")
def realscans_dir() -> Path:
    return FIXTURES / "realscans"
