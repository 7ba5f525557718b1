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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench.metrics import is_numeric, normalise
from bench.pdfwrite import ScanPage, write_pdf
from ocr.contract import Extraction, Finding, Table


def scan_of(pdf: Path, out: Path, dpi: int, seed: int = 7, pages: tuple[int, int] | None = None) -> Path:
    """``pdf`` (or its ``pages``, first and last) as a scanned PDF at ``dpi`` (gray, mild sensor noise,
    JPEG quality 85)."""
    rng = np.random.default_rng(seed)
    span = ["-f", str(pages[0]), "-l", str(pages[1])] if pages else []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), *span, "-gray", "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True, timeout=600)
        write_pdf(out, [_scanned_page(png, dpi, rng) for png in sorted(Path(tmp).glob("p-*.png"))])
    return out


def _scanned_page(png: Path, dpi: int, rng: np.random.Generator) -> ScanPage:
    pixels = np.asarray(Image.open(png), dtype=np.float32)
    noisy = np.clip(pixels + rng.normal(0, 6, pixels.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, format="JPEG", quality=85)
    return ScanPage(buffer.getvalue(), noisy.shape[1], noisy.shape[0], dpi)


@dataclass(frozen=True)
class Agreement:
    """The scan's tables against the text layer's, table by table in page order."""

    tables: int = 0  # on the text layer
    found: int = 0  # with a scan table in the same place (page, order on the page)
    structure: int = 0  # ... of the same shape and merged cells
    joined: int = 0  # continuations the text layer's tables are joined at that the scan's are too
    links: int = 0  # continuations joined on the text layer
    numeric: tuple[int, int] = (0, 0)  # amount cells read the same / all
    text: tuple[int, int] = (0, 0)  # label cells read the same / all
    corrections: tuple[int, int] = (0, 0)  # vocabulary corrections right / wrong
    extra: tuple[str, ...] = ()  # scan tables in no place the text layer has one (ids)
    misses: tuple[Miss, ...] = ()  # cells read differently, and tables of another shape


@dataclass(frozen=True)
class Miss:
    """One difference, for reading by a person: a cell read differently or a table's shape."""

    table: str  # the text layer's table id
    page: int
    row: int  # -1 for a shape difference
    col: int
    expected: str
    got: str


def tables_by_place(tables: list[Table]) -> dict[tuple[int, int], Table]:
    placed: dict[tuple[int, int], Table] = {}
    for page in sorted({t.page for t in tables}):
        on_page = sorted((t for t in tables if t.page == page), key=lambda t: (t.bbox[1], t.bbox[0]))
        placed.update({(page, index): table for index, table in enumerate(on_page)})
    return placed


def _shape(table: Table) -> set[tuple[int, int, int, int]]:
    return {(c.row, c.col, c.row_span, c.col_span) for c in table.cells}


def _joins(extraction: Extraction) -> set[tuple[int, int]]:
    """Places of the tables the fiscal layer joined with a continuation (its T.JOIN findings)."""
    places = {t.id: place for place, t in tables_by_place(extraction.tables).items()}
    return {places[f.table] for f in extraction.findings if f.rule == "T.JOIN" and f.table in places}


def agreement(truth: Extraction, read: Extraction) -> Agreement:
    """Cells of matched tables compared at the same grid position (normalised text); joins compared."""
    placed_truth, placed_read = tables_by_place(truth.tables), tables_by_place(read.tables)
    counts = Counter[str]()
    misses: list[Miss] = []
    joins_truth, joins_read = _joins(truth), _joins(read)
    counts["links"], counts["joined"] = len(joins_truth), len(joins_truth & joins_read)
    for place, table in placed_truth.items():
        scan = placed_read.get(place)
        counts["tables"] += 1
        if scan is None:
            continue
        counts["found"] += 1
        same_shape = ((table.n_rows, table.n_cols) == (scan.n_rows, scan.n_cols)
                      and _shape(table) == _shape(scan))
        counts["structure"] += int(same_shape)
        if not same_shape:
            merged = {s for s in _shape(table) if s[2] > 1 or s[3] > 1}
            misses.append(Miss(table.id, table.page, -1, -1, _size_and_spans(table, merged),
                               _size_and_spans(scan, _shape(scan) ^ _shape(table))))
        _count_cells(table, scan, counts, misses)
    return Agreement(counts["tables"], counts["found"], counts["structure"], counts["joined"],
                     counts["links"],
                     (counts["numeric_same"], counts["numeric"]), (counts["text_same"], counts["text"]),
                     (counts["fix_right"], counts["fix_wrong"]),
                     tuple(t.id for place, t in placed_read.items() if place not in placed_truth),
                     tuple(misses))


def _size_and_spans(table: Table, spans: set[tuple[int, int, int, int]]) -> str:
    return f"{table.n_rows}x{table.n_cols} spans {sorted(spans)}"


def _count_cells(truth: Table, scan: Table, counts: Counter[str], misses: list[Miss]) -> None:
    scanned = {(c.row, c.col): c for c in scan.cells}
    for cell in truth.cells:
        expected = normalise(cell.text)
        got = scanned.get((cell.row, cell.col))
        same = got is not None and normalise(got.text) == expected
        if got is not None and got.read_as is not None:
            counts["fix_right" if same else "fix_wrong"] += 1
        if not expected:
            continue
        kind = "numeric" if is_numeric(expected) else "text"
        counts[kind] += 1
        counts[f"{kind}_same"] += int(same)
        if not same:
            misses.append(Miss(truth.id, truth.page, cell.row, cell.col, cell.text,
                               "<no cell>" if got is None else got.text))


@dataclass(frozen=True)
class Verdicts:
    report: str
    text_errors: int
    scan_errors: int
    added: Counter[str]  # rule -> error findings the scan adds
    lost: int
    cells: Agreement


Verdict = tuple[str, str, str | None, str | None, str | None, tuple[tuple[int, int], ...]]


def _errors(findings: list[Finding]) -> Counter[Verdict]:
    """The error verdicts, each as what it says (rule, English message, expected, actual, table,
    cells), not as it quotes the narrative: a sentence quoted with a misread character elsewhere in it
    (收人 for 收入) is the same verdict on the same figures."""
    return Counter((f.rule, f.message_en or f.message, f.expected, f.actual, f.table, tuple(f.cells))
                   for f in findings if f.severity == "error")


def compare(pdf: Path, dpi: int, workers: int = 1) -> Verdicts:
    from fiscal.lexicon import fiscal_lexicon
    from ocr.parallel import extract_with_workers
    from ocr.pipeline import ExtractOptions, extract
    from service.fiscal_bridge import enrich

    text = enrich(extract(pdf))
    with tempfile.TemporaryDirectory() as tmp:
        scan = scan_of(pdf, Path(tmp) / "scan.pdf", dpi)
        # The service's default: labels checked against the fiscal vocabulary (corrections counted).
        options = ExtractOptions(dpi=dpi, lexicon=fiscal_lexicon())
        ocrd = enrich(extract_with_workers(scan, options, workers))
    truth, read = _errors(text.findings), _errors(ocrd.findings)
    added = Counter[str]()
    for (rule, *_), count in (read - truth).items():
        added[rule] += count
    return Verdicts(pdf.name, sum(truth.values()), sum(read.values()), added, sum((truth - read).values()),
                    agreement(text, ocrd))


def _pct(pair: tuple[int, int]) -> str:
    return f"{100 * pair[0] / pair[1]:.2f} % ({pair[0]}/{pair[1]})" if pair[1] else "-"


def run(pdfs: list[Path], dpi: int, workers: int = 1, on_row: Callable[[str], None] | None = None,
        misses: Path | None = None) -> str:
    rows = ["| report | dpi | errors (text layer) | errors (scan) | added by the scan | lost on the scan | "
            "tables found | structure same | joined | amounts same | labels same | corrections right/wrong | "
            "extra tables |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    total = Counter[str]()
    for pdf in pdfs:
        v = compare(pdf, dpi, workers)
        c = v.cells
        added = ", ".join(f"{rule}×{n}" for rule, n in sorted(v.added.items()))
        rows.append(f"| {v.report} | {dpi} | {v.text_errors} | {v.scan_errors} | "
                    f"{sum(v.added.values())} {added} | {v.lost} | {c.found}/{c.tables} | "
                    f"{c.structure}/{c.tables} | {c.joined}/{c.links} | {_pct(c.numeric)} | {_pct(c.text)} | "
                    f"{c.corrections[0]}/{c.corrections[1]} | {' '.join(c.extra) or '-'} |")
        if on_row is not None:
            on_row(rows[-1])
        if misses is not None:
            with misses.open("a", encoding="utf-8") as out:
                out.writelines(f"{v.report}\t{m.table}\tp{m.page}\t{m.row},{m.col}\t{m.expected!r}\t{m.got!r}\n"
                               for m in c.misses)
        total.update({"added": sum(v.added.values()), "tables": c.tables, "found": c.found,
                      "structure": c.structure, "joined": c.joined, "links": c.links,
                      "num": c.numeric[0], "num_all": c.numeric[1], "txt": c.text[0], "txt_all": c.text[1],
                      "right": c.corrections[0], "wrong": c.corrections[1], "extra": len(c.extra)})
    rows.append(f"| **all** | {dpi} | | | {total['added']} | | {total['found']}/{total['tables']} | "
                f"{total['structure']}/{total['tables']} | {total['joined']}/{total['links']} | "
                f"{_pct((total['num'], total['num_all']))} | {_pct((total['txt'], total['txt_all']))} | "
                f"{total['right']}/{total['wrong']} | {total['extra']} |")
    return "\n".join(rows)
