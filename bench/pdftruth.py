"""Ground-truth tables from a digital PDF page: ruling lines from its clean raster, text from its text layer.

The page is rasterised with ``pdftoppm``; ``bench.gridlines`` finds the cell grid; every word of
``pdftotext -bbox-layout`` is put in the cell holding its centre. Words outside any table become
page text, from which the title, 单位, 部门 and 注 lines attached to each table are read.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.gridlines import Box, Gray, Grid, find_grids
from fiscal.textdoc import normalise_form, normalise_text
from ocr.contract import Cell, Table

_XHTML = "{http://www.w3.org/1999/xhtml}"
_LATIN_EDGE = re.compile(r"[A-Za-z0-9.,%)]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")


class PdfToolError(RuntimeError):
    """pdftoppm / pdftotext failed on a source page."""


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]  # pixels at the raster dpi

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class PageTruth:
    image: Gray
    dpi: int
    tables: list[Table] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _run(command: list[str]) -> bytes:
    result = subprocess.run(command, capture_output=True, check=False, timeout=120)
    if result.returncode != 0:
        raise PdfToolError(f"{command[0]} failed ({result.returncode}): {result.stderr[:300]!r}")
    return result.stdout


def rasterise_page(pdf: Path, page: int, dpi: int) -> Gray:
    png = _run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", "-png", str(pdf)])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise PdfToolError(f"pdftoppm gave no image for {pdf} page {page}")
    return np.asarray(image, dtype=np.uint8)


def page_lines(pdf: Path, page: int, dpi: int) -> list[list[Word]]:
    """Text-layer lines of the page (words in reading order), coordinates in pixels at ``dpi``."""
    xhtml = _run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"])
    root = ET.fromstring(xhtml)
    scale = dpi / 72.0
    lines = []
    for line in root.iter(f"{_XHTML}line"):
        words = []
        for word in line.iter(f"{_XHTML}word"):
            box = tuple(float(word.attrib[k]) * scale for k in ("xMin", "yMin", "xMax", "yMax"))
            words.append(Word(word.text or "", (box[0], box[1], box[2], box[3])))
        if words:
            lines.append(words)
    return lines


def join_words(words: list[Word]) -> str:
    """Concatenate CJK without spaces; keep one space between two Latin/number words."""
    text = ""
    for word in words:
        if text and _LATIN_EDGE.search(text) and _LATIN_START.match(word.text):
            text += " "
        text += word.text
    return normalise_text(text)


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _fill(grid: Grid, lines: list[list[Word]]) -> tuple[list[Cell], set[int]]:
    """Cells with the words whose centres they hold; returns the ids of the lines used."""
    used: set[int] = set()
    cells = []
    for grid_cell in grid.cells:
        words = []
        for number, line in enumerate(lines):
            inside = [w for w in line if _inside(w.centre, grid_cell.bbox)]
            if inside:
                used.add(number)
                words.extend(inside)
        words.sort(key=lambda w: (round(w.centre[1] / 8), w.box[0]))
        cells.append(
            Cell(
                row=grid_cell.row,
                col=grid_cell.col,
                row_span=grid_cell.row_span,
                col_span=grid_cell.col_span,
                text=join_words(words),
                bbox=grid_cell.bbox,
            )
        )
    return cells, used


def page_truth(pdf: Path, page: int, dpi: int, min_rows: int = 2) -> PageTruth:
    image = rasterise_page(pdf, page, dpi)
    lines = page_lines(pdf, page, dpi)
    truth = PageTruth(image=image, dpi=dpi)
    used: set[int] = set()
    grids = [g for g in find_grids(image, dpi) if g.n_rows >= min_rows and g.n_cols >= 2]
    for number, grid in enumerate(grids):
        cells, in_table = _fill(grid, lines)
        used |= in_table
        truth.tables.append(
            Table(
                id=f"t{number}",
                page=page,
                bbox=grid.bbox,
                n_rows=grid.n_rows,
                n_cols=grid.n_cols,
                cells=cells,
            )
        )
    outside = [(line, number) for number, line in enumerate(lines) if number not in used]
    truth.text = [join_words(line) for line, _ in outside]
    for table, previous_bottom in zip(truth.tables, [0, *[t.bbox[3] for t in truth.tables]], strict=False):
        above = [
            join_words(line) for line, _ in outside if previous_bottom <= line[0].centre[1] < table.bbox[1]
        ]
        below = [join_words(line) for line, _ in outside if line[0].centre[1] > table.bbox[3]]
        _attach_context(table, above, below)
    return truth


def _attach_context(table: Table, above: list[str], below: list[str]) -> None:
    for text in reversed(above[-6:]):
        compact = text.replace(" ", "")
        for piece in re.split(r"(?=单位:)|(?=金额单位:)", compact):
            form = normalise_form(piece)
            if form and table.form is None:
                table.form = form
            elif (
                piece.startswith(("部门:", "编制部门:", "编制单位:", "单位名称:"))
                and table.department is None
            ):
                table.department = piece.split(":", 1)[1] or None
            elif piece.startswith(("单位:", "金额单位:")) and table.unit is None:
                table.unit = piece.split(":", 1)[1] or None
            elif piece.endswith("表") and table.title is None and len(piece) <= 40:
                table.title = piece
    table.notes = [text for text in below[:4] if text.startswith(("注", "说明"))]
