"""Shared test configuration. Suite-specific fixtures live in tests/<suite>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the project (CI has it). Acceptance tests depend on it."""
    if not SHARED.is_dir():
        pytest.fail(f"acceptance data missing: {SHARED} (CI clones the project beside shared/)")
    return SHARED
