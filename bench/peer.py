"""The peer we compare against: img2table (bordered-table detection) + Tesseract chi_sim, as our Table model.

PDF pages are rasterised with the same tool and dpi as our pipeline (pdftoppm) and handed to
img2table as images, so both systems read identical pixels. img2table repeats a merged cell at
every grid position it covers; positions sharing one box become one cell with spans.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocr.contract import Cell, Extraction, PageInfo, Source, Table


def _page_count(path: Path) -> int:
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def _page_png(path: Path, page: int, dpi: int) -> bytes:
    return subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(path)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def to_table(extracted: Any, table_id: str, page: int) -> Table:
    """img2table ExtractedTable -> Table (spans from repeated cell boxes)."""
    positions: dict[tuple[int, int, int, int], list[tuple[int, int]]] = {}
    texts: dict[tuple[int, int, int, int], str] = {}
    n_cols = 0
    for r, (_, row) in enumerate(extracted.content.items()):
        n_cols = max(n_cols, len(row))
        for c, cell in enumerate(row):
            box = (int(cell.bbox.x1), int(cell.bbox.y1), int(cell.bbox.x2), int(cell.bbox.y2))
            positions.setdefault(box, []).append((r, c))
            texts[box] = (cell.value or "").strip()
    cells = []
    for box, spots in positions.items():
        rows = [s[0] for s in spots]
        cols = [s[1] for s in spots]
        cells.append(
            Cell(
                row=min(rows),
                col=min(cols),
                row_span=max(rows) - min(rows) + 1,
                col_span=max(cols) - min(cols) + 1,
                text=texts[box],
                bbox=box,
            )
        )
    bbox = extracted.bbox
    return Table(
        id=table_id,
        page=page,
        bbox=(int(bbox.x1), int(bbox.y1), int(bbox.x2), int(bbox.y2)),
        n_rows=len(extracted.content),
        n_cols=n_cols,
        cells=sorted(cells, key=lambda c: (c.row, c.col)),
    )


def run_img2table(path: Path, dpi: int) -> tuple[dict[str, Any], list[float]]:
    from img2table.document import Image
    from img2table.ocr import TesseractOCR

    ocr = TesseractOCR(lang="chi_sim")
    is_pdf = path.read_bytes()[:5] == b"%PDF-"
    pages = _page_count(path) if is_pdf else 1
    infos: list[PageInfo] = []
    tables: list[Table] = []
    seconds: list[float] = []
    for number in range(1, pages + 1):
        begin = time.perf_counter()
        data = _page_png(path, number, dpi) if is_pdf else path.read_bytes()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f"cannot decode page {number} of {path}")
        found = Image(src=data).extract_tables(ocr=ocr, implicit_rows=False, borderless_tables=False)
        for extracted in found:
            tables.append(to_table(extracted, f"t{len(tables)}", number))
        infos.append(
            PageInfo(
                number=number, width_px=image.shape[1], height_px=image.shape[0], dpi=dpi if is_pdf else 72
            )
        )
        seconds.append(time.perf_counter() - begin)
    source = Source(filename=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), pages=pages)
    return Extraction(source=source, pages=infos, tables=tables).model_dump(mode="json"), seconds
