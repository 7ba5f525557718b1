"""Fixtures for the fiscal suite: the seed reports from ../shared (read in place)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ is on sys.path (rootdir conftest), where tests/fiscal would shadow the fiscal package as a
# namespace package; put the project root first so `import fiscal` is the real one.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if "fiscal" in sys.modules and getattr(sys.modules["fiscal"], "__file__", None) is None:
    del sys.modules["fiscal"]

SEEDS = {
    "000": "000_9c0abf3eff29d78e.txt",
    "001": "001_c2a95cdb53eadecf.txt",
    "002": "002_be3f625bc643ecfe.txt",
    "004": "004_8e442660de47ea4e.txt",
}


@pytest.fixture(scope="session")
def seed_text(shared_dir: Path):
    def read(seed: str) -> str:
        return (shared_dir / "seeds" / SEEDS[seed]).read_text(encoding="utf-8")

    return read
