"""The soak's verdict (scripts/soak.py): memory must be flat once the warm-up is over and the data has
stopped growing; a run where the data never stopped growing is not called flat."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _soak() -> Any:
    spec = importlib.util.spec_from_file_location("soak_script", ROOT / "scripts" / "soak.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _result(curve: list[tuple[float, float]], data_complete_s: float) -> dict[str, Any]:
    return {"duration_s": 300.0, "requests": {"poll": 100}, "errors": {}, "jobs_lost": 0, "jobs_accepted": 25,
            "tracebacks_in_server_log": 0, "data_complete_s": data_complete_s,
            "memory_curve": [{"t_s": t, "api_mb": mb, "workers_mb": 200.0} for t, mb in curve]}


def _rising_then_level(level_from_s: float) -> list[tuple[float, float]]:
    return [(t, 180.0 + min(t, level_from_s) / 10) for t in range(0, 301, 5)]


def test_memory_rising_while_the_data_grows_and_level_after_passes() -> None:
    passed, line = _soak().verdict(_result(_rising_then_level(140.0), 140.0), 60.0, 0.5)
    assert passed, line
    assert "140 s warm-up" in line


def test_the_same_rise_after_a_fixed_warm_up_alone_fails() -> None:
    # Data complete at 60 s: the rise from 60 s to 140 s counts.
    passed, _ = _soak().verdict(_result(_rising_then_level(140.0), 60.0), 60.0, 0.5)
    assert not passed


def test_a_run_whose_data_grew_past_half_the_load_fails_unmeasured() -> None:
    passed, line = _soak().verdict(_result(_rising_then_level(0.0), 200.0), 60.0, 0.5)
    assert not passed
    assert "not measured" in line
