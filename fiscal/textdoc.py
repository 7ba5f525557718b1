"""Parse a plain-text report (tables as tab-separated rows) into the table model.

The seed reports in ``shared/seeds`` and any text export of a disclosure report
use this shape: narrative lines, and tables as runs of tab-separated lines, each
preceded by its title, form number (公开01表), 部门：… and 单位：… lines.

Merged cells are not explicit in such text. In header rows a label followed by
empty fields spans them; an empty header field under a single-column label is
that label continued downwards. Body rows have no spans.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ocr.contract import Cell, Table

_FORM_RE = re.compile(r"^(公开|预算|部门预算|决算)?\s*(\d{1,2})\s*表$|^(公开|预算)\s*\d{1,2}\s*表")
_AMOUNT_RE = re.compile(r"^-?[\d,]+\.\d+$")
_LEAD_CONTEXT_LINES = 8


@dataclass
class TextDocument:
    tables: list[Table] = field(default_factory=list)
    narrative: list[str] = field(default_factory=list)


@dataclass
class _Context:
    title: str | None = None
    form: str | None = None
    department: str | None = None
    unit: str | None = None


def normalise_text(text: str) -> str:
    """NFKC and whitespace folding, as the OCR output is normalised."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return re.sub(r"\s+", " ", folded)


def normalise_form(text: str) -> str | None:
    """'公开 01 表' / '公开1表' -> '公开01表'; None when the line is no form number."""
    compact = re.sub(r"\s+", "", normalise_text(text))
    match = re.fullmatch(r"(公开|预算|部门预算)?(\d{1,2})表", compact)
    if not match or not match.group(1):
        return None
    return f"{match.group(1)}{int(match.group(2)):02d}表"


def parse_text_document(text: str) -> TextDocument:
    lines = text.splitlines()
    doc = TextDocument()
    index = 0
    while index < len(lines):
        if "\t" not in lines[index]:
            stripped = normalise_text(lines[index])
            if stripped:
                doc.narrative.append(stripped)
            index += 1
            continue
        end = index
        while end < len(lines) and "\t" in lines[end]:
            end += 1
        context = _context_before(lines, index)
        rows = [[normalise_text(field) for field in line.split("\t")] for line in lines[index:end]]
        table = build_table(f"t{len(doc.tables)}", rows, context)
        table.notes.extend(_notes_after(lines, end))
        doc.tables.append(table)
        index = end
    return doc


_NOTE_RE = re.compile(r"^(注|备注|说明)[:：]|^本(部门|单位)[^。]{0,40}无|空表")


def _notes_after(lines: list[str], start: int) -> list[str]:
    """注：… lines and empty-table statements printed right under a table."""
    notes: list[str] = []
    for line in lines[start : start + _LEAD_CONTEXT_LINES]:
        if "\t" in line:
            break
        text = normalise_text(line)
        if not text:
            continue
        if not _NOTE_RE.search(text):
            break
        notes.append(text)
    return notes


def _context_before(lines: list[str], start: int) -> _Context:
    """Title, form, 部门 and 单位 from the lines above a table (nearest wins), wrapped lines rejoined."""
    block: list[str] = []
    for line in reversed(lines[max(0, start - 4 * _LEAD_CONTEXT_LINES) : start]):
        if "\t" in line:
            break
        text = normalise_text(line)
        if text:
            block.insert(0, text)
        if len(block) >= _LEAD_CONTEXT_LINES:
            break
    context = _Context()
    for text in reversed(_rejoin(block)):
        _absorb_context_line(context, text)
    return context


def _rejoin(block: list[str]) -> list[str]:
    """'公开 09' + '表', '单位：' + '万元', '部门：…综合' + '服务中心' become one line each."""
    out: list[str] = []
    for text in block:
        compact = text.replace(" ", "")
        if out:
            prev = out[-1].replace(" ", "")
            if compact == "表" and re.search(r"\d$", prev):
                out[-1] = out[-1] + compact
                continue
            if prev.endswith((":", "：")):
                out[-1] = out[-1] + compact
                continue
            if prev.startswith(("部门:", "部门：", "单位名称:", "单位名称：")) and _is_fragment(compact):
                out[-1] = out[-1] + compact
                continue
        out.append(text)
    return out


def _is_fragment(compact: str) -> bool:
    return (
        len(compact) <= 12
        and ":" not in compact
        and "：" not in compact
        and not compact.endswith("表")
        and normalise_form(compact) is None
    )


def _absorb_context_line(context: _Context, text: str) -> None:
    compact = text.replace(" ", "")
    form = normalise_form(compact)
    if form and context.form is None:
        context.form = form
    elif compact.startswith(("部门:", "单位名称:", "编制单位:", "编报单位:")) and context.department is None:
        context.department = compact.split(":", 1)[1] or None
    elif compact.startswith(("单位:", "金额单位:")) and context.unit is None:
        context.unit = compact.split(":", 1)[1] or None
    elif context.title is None and len(compact) <= 48 and re.search(r"表([(（][^)）]{1,12}[)）])?$", compact):
        context.title = compact


def header_row_count(rows: list[list[str]]) -> int:
    """Rows before the first data row; a 栏次/行次 numbering row belongs to the header."""
    for number, row in enumerate(rows[:6]):
        if any(cell in ("栏次", "行次") for cell in row) and all(
            cell in ("", "栏次", "行次", "类", "款", "项") or cell.isdigit() for cell in row
        ):
            return number + 1
    for number, row in enumerate(rows):
        if any(_AMOUNT_RE.match(cell) for cell in row):
            return number
    return len(rows)


def build_table(table_id: str, rows: list[list[str]], context: _Context | None = None) -> Table:
    context = context or _Context()
    n_cols = max((len(row) for row in rows), default=0)
    grid = [row + [""] * (n_cols - len(row)) for row in rows]
    n_header = header_row_count(grid)
    owner: dict[tuple[int, int], Cell] = {}
    cells: list[Cell] = []
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if (r, c) in owner:
                continue
            if text == "" and r < n_header and _extend_header_span(grid, owner, r, c):
                continue
            cell = Cell(row=r, col=c, text=text)
            owner[(r, c)] = cell
            cells.append(cell)
    return Table(
        id=table_id,
        page=1,
        form=context.form,
        title=context.title,
        unit=context.unit,
        department=context.department,
        n_rows=len(grid),
        n_cols=n_cols,
        cells=cells,
    )


def _extend_header_span(grid: list[list[str]], owner: dict[tuple[int, int], Cell], r: int, c: int) -> bool:
    """Attach an empty header field to the label it continues; False when it is a genuinely empty cell."""
    above = owner.get((r - 1, c)) if r > 0 else None
    left = owner.get((r, c - 1)) if c > 0 else None
    if above is not None and above.text and above.col == c and above.col_span == 1:
        above.row_span = r - above.row + 1
        owner[(r, c)] = above
        return True
    if left is not None and left.text and left.row == r and left.row_span == 1:
        left.col_span = c - left.col + 1
        owner[(r, c)] = left
        return True
    return False
