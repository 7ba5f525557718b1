"""Point every finding at the page: the page and box of its blamed cells, or of its sentence.

A table finding names cells of the (possibly joined) table; the page of a cell is the page its
part was printed on. A narrative finding quotes what it read between “ and ”; the quote is
found in the pages' text lines (spaces ignored, a sentence may wrap over lines), and the finding
gets that page, the box of those lines and the whole sentence as its quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocr.contract import BBox, Finding, PageInfo, Table

_QUOTED = re.compile(r"“([^”]{2,200})”")
_SENTENCE_END = "。；;！？!?"
_MAX_SENTENCE = 240


@dataclass(frozen=True)
class _Line:
    page: int
    start: int  # offset of the line in its page's joined text
    end: int
    box: BBox | None


def locate(findings: list[Finding], tables: list[Table], row_pages: dict[str, list[tuple[int, int]]],
           pages: list[PageInfo]) -> list[Finding]:
    by_id = {t.id: t for t in tables}
    texts = {page.number: _page_text(page) for page in pages}
    out = []
    for finding in findings:
        table = by_id.get(finding.table or "")
        update = _narrative_place(finding, texts) if finding.rule.startswith("N") else {}
        if table is not None:
            # A finding that blames cells points at them; the sentence (if any) stays as its quote.
            update = {**update, **_table_place(finding, table, row_pages.get(table.id, [(0, table.page)]))}
        out.append(finding.model_copy(update=update) if update else finding)
    return out


def _table_place(finding: Finding, table: Table, parts: list[tuple[int, int]]) -> dict[str, object]:
    def page_of(row: int) -> int:
        return max((part for part in parts if part[0] <= row), default=parts[0])[1]

    if not finding.cells:
        return {"page": table.page}
    page = page_of(finding.cells[0][0])
    boxes = [c.bbox for c in table.cells
             if (c.row, c.col) in set(finding.cells) and page_of(c.row) == page and c.bbox[2] > c.bbox[0]]
    return {"page": page, "bbox": _union(boxes) if boxes else None}


def _union(boxes: list[BBox]) -> BBox:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _page_text(page: PageInfo) -> tuple[str, list[_Line]]:
    """The page's lines joined without spaces, with each line's span and box."""
    joined, lines = "", []
    boxes: list[BBox | None] = list(page.text_boxes) if len(page.text_boxes) == len(page.text) else []
    for index, line in enumerate(page.text):
        compact = _compact(line)
        lines.append(_Line(page.number, len(joined), len(joined) + len(compact),
                           boxes[index] if boxes else None))
        joined += compact
    return joined, lines


def _narrative_place(finding: Finding, texts: dict[int, tuple[str, list[_Line]]]) -> dict[str, object]:
    """The sentence holding the longest quoted fragment of the message: its page, lines and text.

    Where the fragment occurs in several sentences (a label such as “人员经费”), the one that also
    holds the value the finding read (``actual``) is meant.
    """
    fragments = sorted((_compact(q).rstrip("…") for q in _QUOTED.findall(finding.message)), key=len,
                       reverse=True)
    for fragment in (f for f in fragments if len(f) >= 2):
        found = [(number, _sentence(joined, at, at + len(fragment)))
                 for number, (joined, _) in sorted(texts.items()) for at in _occurrences(joined, fragment)]
        if not found:
            continue
        number, (start, end) = next((hit for hit in found if finding.actual and finding.actual in
                                     texts[hit[0]][0][hit[1][0]:hit[1][1]]), found[0])
        joined, lines = texts[number]
        boxes = [ln.box for ln in lines if ln.start < end and ln.end > start and ln.box is not None]
        return {"page": number, "bbox": _union(boxes) if boxes else None, "quote": joined[start:end]}
    return {}


def _occurrences(text: str, fragment: str) -> list[int]:
    found: list[int] = []
    at = text.find(fragment)
    while at >= 0 and len(found) < 50:
        found.append(at)
        at = text.find(fragment, at + 1)
    return found


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to the sentence around it (bounded, so a page without stops stays short)."""
    left = start
    while left > 0 and text[left - 1] not in _SENTENCE_END and start - left < _MAX_SENTENCE:
        left -= 1
    right = end
    while right < len(text) and text[right - 1] not in _SENTENCE_END and right - end < _MAX_SENTENCE:
        right += 1
    return left, right
