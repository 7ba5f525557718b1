"""Verdict stability: the findings on a scan of a report against those on its text layer.

Each digital report is rendered as a scan (``pdftoppm -gray`` at the given resolution, light
noise, stored as JPEG pages the way a scanner's PDF stores them), read by OCR, and checked; its
text layer is read and checked too. What the scan adds (error findings the text layer does not
produce) are false verdicts made by reading; what it loses are slips the scan hides.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench.pdfwrite import ScanPage, write_pdf
from ocr.contract import Finding


def scan_of(pdf: Path, out: Path, dpi: int, seed: int = 7) -> Path:
    """``pdf`` as a scanned PDF at ``dpi`` (gray, mild sensor noise, JPEG quality 85)."""
    rng = np.random.default_rng(seed)
    pages = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True, timeout=600)
        for png in sorted(Path(tmp).glob("p-*.png")):
            pixels = np.asarray(Image.open(png), dtype=np.float32)
            noisy = np.clip(pixels + rng.normal(0, 6, pixels.shape), 0, 255).astype(np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(noisy).save(buffer, format="JPEG", quality=85)
            pages.append(ScanPage(buffer.getvalue(), noisy.shape[1], noisy.shape[0], dpi))
    write_pdf(out, pages)
    return out


@dataclass(frozen=True)
class Verdicts:
    report: str
    text_errors: int
    scan_errors: int
    added: Counter[str]  # rule -> error findings the scan adds
    lost: int


def _errors(findings: list[Finding]) -> Counter[tuple[str, str]]:
    return Counter((f.rule, f.message) for f in findings if f.severity == "error")


def compare(pdf: Path, dpi: int) -> Verdicts:
    from ocr.pipeline import ExtractOptions, extract
    from service.fiscal_bridge import enrich

    text = enrich(extract(pdf))
    with tempfile.TemporaryDirectory() as tmp:
        scan = scan_of(pdf, Path(tmp) / "scan.pdf", dpi)
        ocrd = enrich(extract(scan, ExtractOptions(dpi=dpi)))
    truth, read = _errors(text.findings), _errors(ocrd.findings)
    added = Counter[str]()
    for (rule, _), count in (read - truth).items():
        added[rule] += count
    return Verdicts(pdf.name, sum(truth.values()), sum(read.values()), added, sum((truth - read).values()))


def run(pdfs: list[Path], dpi: int) -> str:
    rows = ["| report | dpi | errors (text layer) | errors (scan) | added by the scan | lost on the scan |",
            "|---|---|---|---|---|---|"]
    for pdf in pdfs:
        v = compare(pdf, dpi)
        added = ", ".join(f"{rule}×{n}" for rule, n in sorted(v.added.items()))
        rows.append(f"| {v.report} | {dpi} | {v.text_errors} | {v.scan_errors} | "
                    f"{sum(v.added.values())} {added} | {v.lost} |")
    return "\n".join(rows)
