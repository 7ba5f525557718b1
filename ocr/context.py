"""Text outside the tables: titles, form numbers, department, unit, notes, narrative.

Text lines are found by smearing the non-table ink horizontally (about one
character) and read in one batch by the same engine as the cells. Each table
takes the nearest title, form number (公开01表), 部门：… and 单位：… above it and the
注：… lines right below it; every other line is page narrative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from ocr.cells import Box, classify_kind
from ocr.engines.base import CellCrop, GrayImage, OcrEngine
from ocr.grid import PageLines
from ocr.preprocess import as_gray
from ocr.textnorm import normalise

_MIN_CONFIDENCE = 0.5
_FORM = re.compile(r"(公开|预算|决算|部门预算|部门决算|附)\s*[第]?\s*(\d{1,2}(?:\s*-\s*\d{1,2})?)\s*表")
_UNIT = re.compile(r"单位\s*[:：]\s*(万元|千元|亿元|元)")
_DEPARTMENT = re.compile(
    r"(?:编制部门|编制单位|预算单位|单位名称|部门名称|部门)\s*[:：]\s*(.+?)(?:\s*单位\s*[:：].*)?$"
)
_NOTE = re.compile(r"^\s*(?:注|说明|备注)\s*(?:\d+|[一二三四五六七八九十]+)?\s*[:：.、]")
_PAGE_NUMBER = re.compile(r"^[-—\s]*\d{1,4}[-—\s]*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TITLE_WORD = re.compile(r"(表|清单|明细|情况)\s*(\(.*\))?\s*$")


@dataclass(frozen=True)
class TextLine:
    bbox: Box
    text: str
    confidence: float


@dataclass
class TableContext:
    title: str | None = None
    form: str | None = None
    unit: str | None = None
    department: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageContext:
    tables: list[TableContext]
    text: list[str]
    text_boxes: list[Box] = field(default_factory=list)  # one per line of ``text``


def find_text_lines(lines: PageLines, exclude: Sequence[Box], dpi: int) -> list[Box]:
    """Boxes of text lines (or fragments of a line far apart) outside the ``exclude`` regions."""
    mask = cv2.bitwise_and(lines.ink, cv2.bitwise_not(cv2.bitwise_or(lines.horizontal, lines.vertical)))
    pad = max(3, dpi // 50)
    for x0, y0, x1, y1 in exclude:
        mask[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad] = 0
    min_height = max(4, round(dpi * 0.02))
    boxes: list[Box] = []
    for top, bottom in _ink_bands(mask.max(axis=1) > 0):
        if bottom - top >= min_height:
            boxes.extend(_band_fragments(as_gray(mask[top:bottom]), top, min_height))
    boxes.sort(key=lambda b: (b[1], b[0]))
    return boxes


def _ink_bands(rows: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of rows holding ink: the text lines of the page (outside tables)."""
    bands: list[tuple[int, int]] = []
    start: int | None = None
    for index, value in enumerate(np.append(rows, False)):
        if value and start is None:
            start = index
        elif not value and start is not None:
            bands.append((start, index))
            start = None
    return bands


def _band_fragments(strip: GrayImage, top: int, min_height: int) -> list[Box]:
    """Split one line band into fragments separated by more than about one character height."""
    gap = max(3, round(strip.shape[0] * 1.1))
    columns = strip.max(axis=0) > 0
    fragments = []
    for x0, x1 in _bridge(_ink_bands(columns), gap):
        piece = strip[:, x0:x1]
        ink_rows = np.nonzero(piece.max(axis=1))[0]
        if ink_rows.size == 0 or int(np.count_nonzero(piece)) < min_height * 2:
            continue
        y0, y1 = int(ink_rows[0]), int(ink_rows[-1]) + 1
        if y1 - y0 >= min_height or x1 - x0 >= 2 * min_height:
            fragments.append((x0, top + y0, x1, top + y1))
    return fragments


def _bridge(runs: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Join runs separated by less than ``gap``."""
    joined: list[tuple[int, int]] = []
    for start, end in runs:
        if joined and start - joined[-1][1] < gap:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def read_text_lines(gray: GrayImage, boxes: Sequence[Box], engine: OcrEngine) -> list[TextLine]:
    crops = []
    for x0, y0, x1, y1 in boxes:
        image = np.ascontiguousarray(gray[y0:y1, x0:x1])
        _, binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        crops.append(CellCrop(image=image, kind=classify_kind(as_gray(binary))))
    results = engine.recognize(crops) if crops else []
    read = []
    for box, result in zip(boxes, results, strict=True):
        text = normalise(result.text)
        if text and result.confidence >= _MIN_CONFIDENCE:
            read.append(TextLine(bbox=box, text=text, confidence=result.confidence))
    return read


def _visual_rows(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """Group fragments sharing a baseline band into rows, each sorted left to right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: (item.bbox[1] + item.bbox[3]) / 2):
        centre = (line.bbox[1] + line.bbox[3]) / 2
        if rows:
            last = rows[-1][0].bbox
            if last[1] <= centre <= last[3]:
                rows[-1].append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda item: item.bbox[0]) for row in rows]


def normalise_form(text: str) -> str | None:
    match = _FORM.search(text)
    if not match:
        return None
    number = re.sub(r"\s+", "", match.group(2))
    return f"{match.group(1)}{number}表"


def _take_header_fields(fragment: str, ctx: TableContext) -> bool:
    """Fill form/unit/department from one fragment; True if the fragment was such a field."""
    used = False
    if ctx.form is None and (form := normalise_form(fragment)):
        ctx.form, used = form, True
    if ctx.unit is None and (unit := _UNIT.search(fragment)):
        ctx.unit, used = unit.group(1), True
    if ctx.department is None and (dept := _DEPARTMENT.search(fragment)):
        ctx.department, used = dept.group(1).strip(), True
    return used


def _is_title(text: str) -> bool:
    return len(_CJK.findall(text)) >= 3 and not _NOTE.match(text) and not _PAGE_NUMBER.match(text)


def _take_fields_above(above: list[tuple[int, TextLine]], ctx: TableContext,
                       used: set[int]) -> list[tuple[int, TextLine]]:
    """Fill header fields from the rows above a table, nearest row first; return title candidates.

    Fields are matched on each fragment and on the whole visual row, because widely
    spaced print (单位：  元) comes out of line finding as separate fragments.
    """
    titles: list[tuple[int, TextLine]] = []
    by_line = {id(ln): i for i, ln in above}
    for row in reversed(_visual_rows([ln for _, ln in above])):
        row_fields = False
        for ln in row:
            if _take_header_fields(ln.text, ctx):
                used.add(by_line[id(ln)])
                row_fields = True
        if _take_header_fields("".join(ln.text for ln in row), ctx) or row_fields:
            for ln in row:
                if _is_title(ln.text) and _TITLE_WORD.search(ln.text):
                    titles.append((by_line[id(ln)], ln))
                else:
                    used.add(by_line[id(ln)])
            continue
        titles.extend((by_line[id(ln)], ln) for ln in row if _is_title(ln.text))
    return titles


def _choose_title(candidates: list[tuple[int, TextLine]], table: Box) -> tuple[int, TextLine] | None:
    """Nearest line naming a table (…表, …清单), else the nearest line centred over the table."""
    for item in candidates:
        if _TITLE_WORD.search(item[1].text):
            return item
    centre, width = (table[0] + table[2]) / 2, table[2] - table[0]
    for item in candidates:
        x0, _, x1, _ = item[1].bbox
        if abs((x0 + x1) / 2 - centre) <= 0.12 * width:
            return item
    return None


def attach_context(lines: Sequence[TextLine], table_boxes: Sequence[Box], page_height: int) -> PageContext:
    """Assign header fields and notes to each table (boxes top to bottom); the rest is page text."""
    used: set[int] = set()
    contexts = [TableContext() for _ in table_boxes]
    indexed = list(enumerate(lines))
    for t, box in enumerate(table_boxes):
        ceiling = table_boxes[t - 1][3] if t else 0
        floor = table_boxes[t + 1][1] if t + 1 < len(table_boxes) else page_height
        above = [(i, ln) for i, ln in indexed if ceiling <= ln.bbox[3] <= box[1] + 5 and i not in used]
        titles = _take_fields_above(above, contexts[t], used)
        chosen = _choose_title(titles, box)
        if chosen is not None:
            contexts[t].title = chosen[1].text
            used.add(chosen[0])
        below = [(i, ln) for i, ln in indexed if box[3] - 5 <= ln.bbox[1] < floor and i not in used]
        contexts[t].notes = _notes(below, used)
    text, boxes = _page_text([ln for i, ln in indexed if i not in used])
    return PageContext(tables=contexts, text=text, text_boxes=boxes)


def _page_text(rest: list[TextLine]) -> tuple[list[str], list[Box]]:
    """Lines no table claimed, joined into visual rows: the page's text and the box of each row."""
    rows = _visual_rows(rest)
    text = [" ".join(fragment.text for fragment in row) for row in rows]
    boxes = [(min(f.bbox[0] for f in row), min(f.bbox[1] for f in row),
              max(f.bbox[2] for f in row), max(f.bbox[3] for f in row)) for row in rows]
    return text, boxes


def _notes(below: list[tuple[int, TextLine]], used: set[int]) -> list[str]:
    """注：… lines under a table, with their wrapped continuation lines."""
    notes: list[str] = []
    last_bottom: int | None = None
    for i, ln in sorted(below, key=lambda item: item[1].bbox[1]):
        height = ln.bbox[3] - ln.bbox[1]
        if _NOTE.match(ln.text):
            notes.append(ln.text)
        elif notes and last_bottom is not None and ln.bbox[1] - last_bottom <= 1.5 * height:
            notes[-1] += ln.text
        elif notes:
            break
        else:
            continue
        used.add(i)
        last_bottom = ln.bbox[3]
    return notes
