"""Digital reports: the text-layer path against rendering and against the OCR path, in one run.

For each PDF: ``pdftoppm -r 300`` on the whole file (the yardstick), ``fiscalocr extract`` with
default settings (text layer where trustworthy; extract + validate), and optionally the same
with ``--ocr always``. Wall time and peak RSS of each child process; for the OCR path, the share
of table cells (and of amount cells) that read the same as the text path, and the error findings
it adds. Speeds are ratios to pdftoppm measured in the same run, since machines are noisy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_AMOUNT = re.compile(r"^-?[\d,]+\.\d+$")


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float


@dataclass
class ReportRow:
    name: str
    pages: int
    pdftoppm: ChildRun
    text: ChildRun
    ocr: ChildRun | None = None
    cells_same: tuple[int, int] = (0, 0)
    amounts_same: tuple[int, int] = (0, 0)
    errors_text: int = 0
    errors_ocr: int = 0
    notes: list[str] = field(default_factory=list)


def _timed(command: list[str]) -> ChildRun:
    """Run ``command``; wall seconds and the child's own peak RSS (wait4 rusage)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed on {command[-3:]}")
    return ChildRun(seconds, usage.ru_maxrss / 1024)


def _fiscalocr() -> str:
    return str(Path(sys.executable).with_name("fiscalocr"))


def _extract(pdf: Path, out: Path, *extra: str) -> tuple[ChildRun, dict[str, Any]]:
    run = _timed([_fiscalocr(), "extract", str(pdf), "--out", str(out), *extra])
    return run, json.loads(out.read_text(encoding="utf-8"))


def _cells(extraction: dict[str, Any]) -> dict[tuple[int, int, int, int], str]:
    """(page, table top, row, col) -> text; table order on a page is stable across both paths."""
    found = {}
    for table in extraction["tables"]:
        for cell in table["cells"]:
            found[(table["page"], table["bbox"][1] // 50, cell["row"], cell["col"])] = cell["text"]
    return found


def _agreement(text: dict[str, Any], ocr: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    reference, read = _cells(text), _cells(ocr)
    same = sum(1 for key, value in reference.items() if read.get(key) == value)
    amounts = [key for key, value in reference.items() if _AMOUNT.match(value)]
    same_amounts = sum(1 for key in amounts if read.get(key) == reference[key])
    return (same, len(reference)), (same_amounts, len(amounts))


def _errors(extraction: dict[str, Any]) -> int:
    return sum(1 for finding in extraction["findings"] if finding["severity"] == "error")


def measure(pdf: Path, with_ocr: bool) -> ReportRow:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The yardstick as the issue measured it: pdftoppm's default output (PPM, no compression).
        raster = _timed(["pdftoppm", "-r", "300", str(pdf), str(work / "page")])
        pages = len(list(work.glob("page*.ppm")))
        for rendered in work.glob("page*.ppm"):
            rendered.unlink()
        text_run, text = _extract(pdf, work / "text.json")
        row = ReportRow(pdf.name, pages, raster, text_run, errors_text=_errors(text))
        if with_ocr:
            row.ocr, ocr = _extract(pdf, work / "ocr.json", "--ocr", "always")
            row.cells_same, row.amounts_same = _agreement(text, ocr)
            row.errors_ocr = _errors(ocr)
            added = Counter(f["rule"] for f in ocr["findings"] if f["severity"] == "error")
            added.subtract(Counter(f["rule"] for f in text["findings"] if f["severity"] == "error"))
            row.notes = [f"{rule}×{n}" for rule, n in sorted(added.items()) if n > 0]
    return row


def _pct(pair: tuple[int, int]) -> str:
    return f"{100 * pair[0] / pair[1]:.1f} % ({pair[0]}/{pair[1]})" if pair[1] else "-"


def format_rows(rows: list[ReportRow]) -> str:
    lines = ["| report | pages | pdftoppm -r 300 s | text path s | ratio | RSS MB | errors |"
             + (" OCR path s | ratio | RSS MB | cells same | amounts same | errors | errors OCR adds |"
                if any(r.ocr for r in rows) else ""),
             "|---|---|---|---|---|---|---|" + ("---|" * 7 if any(r.ocr for r in rows) else "")]
    for row in rows:
        line = (f"| {row.name} | {row.pages} | {row.pdftoppm.seconds:.2f} | {row.text.seconds:.2f} | "
                f"{row.text.seconds / row.pdftoppm.seconds:.2f}× | {row.text.peak_rss_mb:.0f} | "
                f"{row.errors_text} |")
        if row.ocr is not None:
            line += (f" {row.ocr.seconds:.1f} | {row.ocr.seconds / row.pdftoppm.seconds:.1f}× | "
                     f"{row.ocr.peak_rss_mb:.0f} | {_pct(row.cells_same)} | {_pct(row.amounts_same)} | "
                     f"{row.errors_ocr} | {', '.join(row.notes) or '-'} |")
        lines.append(line)
    total_raster = sum(r.pdftoppm.seconds for r in rows)
    total_text = sum(r.text.seconds for r in rows)
    pages = sum(r.pages for r in rows)
    lines.append(f"\nall: {pages} pages, text path {total_text:.1f} s = {total_text / total_raster:.2f}× "
                 f"pdftoppm ({total_raster:.1f} s), {total_text / max(1, pages):.3f} s/page; "
                 f"peak RSS {max(r.text.peak_rss_mb for r in rows):.0f} MB")
    return "\n".join(lines)


def run(pdfs: list[Path], with_ocr: bool) -> str:
    rows = []
    for number, pdf in enumerate(pdfs, start=1):
        rows.append(measure(pdf, with_ocr))
        print(f"[{number}/{len(pdfs)}] {pdf.name}", file=sys.stderr)
    return format_rows(rows)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_seconds(pdfs: list[Path]) -> list[tuple[str, float, float]]:
    """(name, CLI seconds, seconds from upload to job finished) on embedded defaults, loopback only."""
    import httpx

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FISCALOCR_DATA_DIR": tmp}
        created = subprocess.run([_fiscalocr(), "keys", "create", "--tenant", "bench"], env=env,
                                 capture_output=True, text=True, check=True)
        key = created.stdout.strip().splitlines()[-1]
        port = _free_port()
        server = subprocess.Popen([_fiscalocr(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base)
            auth = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
                for pdf in pdfs:
                    cli = _timed([_fiscalocr(), "extract", str(pdf), "--out", str(Path(tmp) / "cli.json")])
                    rows.append((pdf.name, cli.seconds, _job_seconds(client, pdf)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return rows


def _wait_ready(base: str) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the service did not become ready")


def _job_seconds(client: Any, pdf: Path) -> float:
    started = time.perf_counter()
    with pdf.open("rb") as handle:
        accepted = client.post("/v1/documents", files={"file": (pdf.name, handle, "application/pdf")}).json()
    while True:
        state = client.get(f"/v1/jobs/{accepted['job_id']}").json()["state"]
        if state in ("succeeded", "failed", "cancelled"):
            if state != "succeeded":
                raise RuntimeError(f"job for {pdf.name} ended {state}")
            return time.perf_counter() - started
        time.sleep(0.05)
