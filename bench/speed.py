"""Reading speed as a ratio to ``pdftoppm`` on the same file, in the same run.

These machines are shared and noisy: an absolute time says little from one day to the next, a
ratio to a program that does a fixed part of the same work (rasterising the pages) says more.
The two are run in turns, several rounds, and the medians are compared. The scan is made here
from a digital report (a page range, ``bench.verdicts.scan_of``), so the command reproduces it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.verdicts import scan_of


@dataclass(frozen=True)
class Timing:
    seconds: float
    peak_rss_mb: float  # the largest of the process and the children it waited for


@dataclass(frozen=True)
class SpeedReport:
    pages: int
    rasterise: list[float]  # pdftoppm seconds, one per round
    extract: list[Timing]  # fiscalocr extract, one per round

    def ratio(self) -> float:
        return statistics.median(t.seconds for t in self.extract) / statistics.median(self.rasterise)

    def format(self, workers: int, dpi: int) -> str:
        raster = statistics.median(self.rasterise)
        extract = statistics.median(t.seconds for t in self.extract)
        peak = max(t.peak_rss_mb for t in self.extract)
        return (f"{self.pages} pages, {len(self.rasterise)} rounds: pdftoppm -r {dpi} median {raster:.2f} s "
                f"({', '.join(f'{s:.2f}' for s in self.rasterise)}); fiscalocr extract --workers {workers} "
                f"median {extract:.2f} s ({', '.join(f'{t.seconds:.2f}' for t in self.extract)}); "
                f"ratio {self.ratio():.2f}x; peak RSS of one process {peak:.0f} MB")


def timed(command: list[str]) -> Timing:
    """Wall time and peak resident memory of ``command`` (which must succeed)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {stderr[-2000:]}")
    return Timing(seconds, usage.ru_maxrss / 1024)


def make_scan(report: Path, first: int, last: int, dpi: int, out: Path) -> Path:
    """Pages ``first``..``last`` of a digital report as a scanned PDF."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdfseparate", "-f", str(first), "-l", str(last), str(report), f"{tmp}/p-%04d.pdf"],
                       check=True, capture_output=True, timeout=300)
        parts = sorted(str(p) for p in Path(tmp).glob("p-*.pdf"))
        subprocess.run(["pdfunite", *parts, f"{tmp}/range.pdf"], check=True, capture_output=True, timeout=300)
        return scan_of(Path(tmp) / "range.pdf", out, dpi)


def run(scan: Path, pages: int, dpi: int, workers: int, rounds: int) -> SpeedReport:
    rasterise: list[float] = []
    extract: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            rasterise.append(timed(["pdftoppm", "-r", str(dpi), str(scan), f"{tmp}/r"]).seconds)
            for ppm in Path(tmp).glob("r-*"):
                ppm.unlink()
            command = [sys.executable, "-m", "service.cli", "extract", str(scan), "--dpi", str(dpi),
                       "--workers", str(workers), "--out", f"{tmp}/out.json"]
            extract.append(timed(command))
    return SpeedReport(pages, rasterise, extract)
