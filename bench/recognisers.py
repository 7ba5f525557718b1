"""Two recognition models on the very same cell crops: which reads these tables better, and how fast.

Crops come from scans of the published reports (``bench.verdicts.scan_of``), cut by the project's own
grid and cell stages (``ocr.cells.cut_cell_lines``); the truth of a one-line cell is the text layer's
cell at the same place. Only the recogniser differs between the two runs, so the comparison is fair to
both: the project's model (PP-OCRv6 small from rapidocr 3.10's wheel; PP-OCRv4 of
rapidocr_onnxruntime 1.4.4 before) and any other PP-OCR recognition model given as an ONNX file with
its character list in the model's metadata.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench.metrics import is_numeric, normalise
from bench.verdicts import scan_of, tables_by_place
from ocr.cells import cut_cell_lines
from ocr.contract import Table
from ocr.engines.base import Recognition
from ocr.engines.rapid import OnnxRecogniser, open_session, pad_to_bgr, recognise_lines, shared_models
from ocr.grid import find_tables, page_lines
from ocr.pipeline import PixelReaders, extract
from ocr.preprocess import enlarge_small_text, make_upright
from ocr.rasterise import open_document, rasterise_page
from ocr.textnorm import normalise as ocr_normalise
from ocr.textnorm import numeric_reading, strip_noise


def _truth_by_page(tables: list[Table]) -> dict[int, list[Table]]:
    """The text layer's tables of each page, in the order ``bench.verdicts`` places them."""
    pages: dict[int, list[Table]] = {}
    for (page, _), table in sorted(tables_by_place(tables).items()):
        pages.setdefault(page, []).append(table)
    return pages


def build(pdfs: list[Path], dpi: int, out: Path) -> int:
    """Write the one-line cell crops of every report's scan with their truth; returns how many."""
    out.mkdir(parents=True, exist_ok=True)
    orientation = PixelReaders().orientation
    count = 0
    with (out / "cells.jsonl").open("w", encoding="utf-8") as index, tempfile.TemporaryDirectory() as tmp:
        for pdf in pdfs:
            truth = _truth_by_page(extract(pdf).tables)
            scan = open_document(scan_of(pdf, Path(tmp) / "scan.pdf", dpi), 1000)
            for number in sorted(truth):
                raster = rasterise_page(scan, number, dpi, 200_000_000, 120.0)
                image, _ = enlarge_small_text(make_upright(raster.image, orientation).image)
                lines = page_lines(image, dpi)
                grids = sorted(find_tables(image, dpi, lines), key=lambda g: (g.bbox[1], g.bbox[0]))
                for grid, table in zip(grids, truth[number], strict=False):
                    if (grid.n_rows, grid.n_cols) != (table.n_rows, table.n_cols):
                        continue
                    texts = {(c.row, c.col): c.text for c in table.cells}
                    for cell in cut_cell_lines(image, grid, lines, dpi):
                        expected = texts.get((cell.grid.row, cell.grid.col), "")
                        if len(cell.crops) != 1 or not normalise(expected):
                            continue
                        name = f"{pdf.stem}-p{number}-{count:05d}.png"
                        Image.fromarray(cell.crops[0].image).save(out / name)
                        index.write(json.dumps({"file": name, "truth": expected, "kind": cell.crops[0].kind},
                                               ensure_ascii=False) + "\n")
                        count += 1
    return count


@dataclass(frozen=True)
class Score:
    model: str
    numeric: tuple[int, int]
    text: tuple[int, int]
    seconds: float
    misses: list[tuple[str, str]]


def score(dataset: Path, model: Path | None) -> Score:
    """Read every crop of ``dataset`` with the project's model (``model`` None) or the given one."""
    lines = (dataset / "cells.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    recogniser = shared_models().recogniser if model is None else OnnxRecogniser(open_session(model))
    images = [pad_to_bgr(np.asarray(Image.open(dataset / e["file"]), dtype=np.uint8)) for e in entries]
    recognise_lines(recogniser, images[:8])  # warm up
    start = time.perf_counter()
    results: list[Recognition] = recognise_lines(recogniser, images)
    seconds = time.perf_counter() - start
    counts = {"numeric": [0, 0], "text": [0, 0]}
    misses = []
    for entry, result in zip(entries, results, strict=True):
        text = result.text if entry["kind"] != "numeric" else numeric_reading(ocr_normalise(result.text))
        read, expected = normalise(strip_noise(ocr_normalise(text))), normalise(entry["truth"])
        kind = "numeric" if is_numeric(expected) else "text"
        counts[kind][1] += 1
        counts[kind][0] += int(read == expected)
        if read != expected:
            misses.append((expected, read))
    name = "the project's (PP-OCRv6 small, rapidocr 3.10)" if model is None else model.name
    return Score(name, (counts["numeric"][0], counts["numeric"][1]), (counts["text"][0], counts["text"][1]),
                 seconds, misses)


def report(scores: list[Score]) -> str:
    def pct(pair: tuple[int, int]) -> str:
        return f"{100 * pair[0] / pair[1]:.2f} % ({pair[0]}/{pair[1]})" if pair[1] else "-"

    rows = ["| model | amounts exact | labels exact | seconds (one thread) |", "|---|---|---|---|"]
    rows += [f"| {s.model} | {pct(s.numeric)} | {pct(s.text)} | {s.seconds:.1f} |" for s in scores]
    return "\n".join(rows)
