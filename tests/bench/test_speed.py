"""The speed benchmark compares medians of turns run in the same session, and times real processes."""

from __future__ import annotations

import sys

import pytest

from bench.speed import SpeedReport, Timing, timed


def test_the_ratio_is_of_medians_so_one_slow_turn_does_not_move_it() -> None:
    report = SpeedReport(pages=8, rasterise=[2.0, 9.0, 2.2],
                         extract=[Timing(14.0, 300), Timing(13.0, 380), Timing(40.0, 310)])
    assert report.ratio() == pytest.approx(14.0 / 2.2)
    line = report.format(workers=2, dpi=300)
    assert "ratio 6.36x" in line and "peak RSS of one process 380 MB" in line


def test_timed_reports_a_child_s_peak_memory_and_refuses_a_failure() -> None:
    # A child that holds 200 MB must show at least that much; this process is far smaller than that.
    grow = "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    assert timed([sys.executable, "-c", grow]).peak_rss_mb >= 200
    with pytest.raises(RuntimeError, match="failed"):
        timed([sys.executable, "-c", "raise SystemExit(3)"])
