"""Test helper: tables of a digital PDF page from its exact text layer plus its ruling lines.

Ruling lines come from the rendered page (pdftoppm + OpenCV morphology); merged cells are where a
separating line is absent; each word of ``pdftotext -bbox-layout`` goes to the cell under its
centre. Text outside the grid above it gives the title and 单位.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ocr.contract import Cell, Table

DPI = 144
SCALE = DPI / 72
_WORD_RE = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [
        (float(a) * SCALE, float(b) * SCALE, float(c) * SCALE, float(d) * SCALE, html.unescape(t))
        for a, b, c, d, t in _WORD_RE.findall(out)
    ]


def render(pdf: Path, page: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "p"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(DPI),
                "-f",
                str(page),
                "-l",
                str(page),
                "-gray",
                "-png",
                str(pdf),
                str(prefix),
            ],
            check=True,
        )
        image = cv2.imread(str(next(Path(tmp).glob("p*.png"))), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def _positions(profile: np.ndarray, minimum: int) -> list[int]:
    marks = np.where(profile >= minimum)[0]
    out: list[int] = []
    for index in marks:
        if not out or index - out[-1] > 3:
            out.append(int(index))
    return out


def _masks(image: np.ndarray, tall: int = 20) -> tuple[np.ndarray, np.ndarray]:
    binary = (image < 160).astype(np.uint8) * 255
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (40, 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tall)))
    return horizontal, vertical


# Column positions need strokes longer than a glyph: at 144 dpi a 10.5 pt character's vertical stroke is
# up to ~22 px and strokes of several rows add up on the page profile, while the shortest ruled row is
# ~34 px high and its line runs through the row's junctions.
_COLUMN_LINE_MIN = 30


def _boundary(mask: np.ndarray, fixed: int, start: int, stop: int, axis: str) -> bool:
    lo, hi = sorted((start, stop))
    if hi - lo < 3:
        return True
    band = (
        mask[lo + 2 : hi - 2, max(0, fixed - 2) : fixed + 3]
        if axis == "v"
        else mask[max(0, fixed - 2) : fixed + 3, lo + 2 : hi - 2]
    )
    along = band.max(axis=1 if axis == "v" else 0)
    return float((along > 0).mean()) > 0.6


def page_table(pdf: Path, page: int, table_id: str) -> Table | None:
    image = render(pdf, page)
    horizontal, vertical = _masks(image)
    _, column_lines = _masks(image, _COLUMN_LINE_MIN)
    ys = _positions((horizontal > 0).sum(axis=1), 80)
    xs = _positions((column_lines > 0).sum(axis=0), 40)
    if len(ys) < 3 or len(xs) < 2:
        return None
    rows, cols = len(ys) - 1, len(xs) - 1
    root = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def find(key: tuple[int, int]) -> tuple[int, int]:
        while root[key] != key:
            key = root[key]
        return key

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not _boundary(vertical, xs[c + 1], ys[r], ys[r + 1], "v"):
                root[find((r, c + 1))] = find((r, c))
            if r + 1 < rows and not _boundary(horizontal, ys[r + 1], xs[c], xs[c + 1], "h"):
                root[find((r + 1, c))] = find((r, c))
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for key in root:
        groups.setdefault(find(key), []).append(key)
    texts: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    above: list[tuple[float, float, str]] = []
    below: list[tuple[float, float, str]] = []
    for x0, y0, x1, y1, text in words(pdf, page):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if cy < ys[0] or cy > ys[-1]:
            (above if cy < ys[0] else below).append((cy, cx, text))
            continue
        r = next((i for i in range(rows) if ys[i] <= cy < ys[i + 1]), None)
        c = next((j for j in range(cols) if xs[j] <= cx < xs[j + 1]), None)
        if r is None or c is None:
            continue
        texts.setdefault(find((r, c)), []).append((cy, cx, text))
    cells = []
    for top, members in groups.items():
        r0 = min(r for r, _ in members)
        c0 = min(c for _, c in members)
        r1 = max(r for r, _ in members)
        c1 = max(c for _, c in members)
        parts = sorted(texts.get(top, []))
        text = "".join(t for _, _, t in parts)
        cells.append(Cell(row=r0, col=c0, row_span=r1 - r0 + 1, col_span=c1 - c0 + 1, text=text))
    title, unit = _context(above)
    return Table(
        id=table_id,
        page=page,
        title=title,
        unit=unit,
        n_rows=rows,
        n_cols=cols,
        cells=cells,
        notes=_notes(below),
    )


def _text_lines(placed: list[tuple[float, float, str]]) -> list[str]:
    lines: dict[int, list[tuple[float, str]]] = {}
    for cy, cx, text in placed:
        lines.setdefault(round(cy / 6), []).append((cx, text))
    return ["".join(t for _, t in sorted(parts)) for _, parts in sorted(lines.items())]


def _notes(below: list[tuple[float, float, str]]) -> list[str]:
    """'注：…' / '说明：…' statements under the grid (empty tables carry their 空表说明 there), wrapped
    lines joined."""
    notes: list[str] = []
    for line in _text_lines(below):
        if line.startswith(("注", "说明")):
            notes.append(line)
        elif notes and not notes[-1].endswith("。"):
            notes[-1] += line
    return notes


def _context(above: list[tuple[float, float, str]]) -> tuple[str | None, str | None]:
    joined = _text_lines(above)
    # '编制部门：…  单位：元' (budgets) or '单位：万元': the unit follows the last 单位
    unit = next((re.split(r"单位[:：]", ln)[-1] for ln in joined if re.search(r"单位[:：]", ln)), None)
    title = next((ln for ln in reversed(joined) if ln.endswith("表") or "表（" in ln or "表(" in ln), None)
    return title, unit


def document_tables(pdf: Path, pages: list[int]) -> list[Table]:
    out = []
    for page in pages:
        table = page_table(pdf, page, f"p{page}")
        if table is not None:
            out.append(table)
    return out
