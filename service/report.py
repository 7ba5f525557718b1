"""The annotated report (GET /v1/documents/{id}/report.pdf): the original pages with every finding's
boxes drawn and numbered (errors red, warnings amber, notes blue), then a summary in Chinese that
lists each finding with its page, quote and cells, the reviewers' corrections and sign-offs.

Drawn with reportlab (BSD): page rasters as images, boxes as vector strokes, the summary as real
text in an embedded CJK TrueType font, so the copy is searchable and prints sharp.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger(__name__)

SEVERITY_COLOURS: dict[str, Color] = {"error": HexColor("#d32f2f"), "warning": HexColor("#f59e0b"),
                                      "info": HexColor("#1e6fd9")}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
# TrueType outlines only: reportlab cannot embed the CFF-based Noto CJK fonts.
FONT_CANDIDATES = (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
                   Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
                   Path("/usr/share/fonts/truetype/arphic/ukai.ttc"))
MARGIN = 48.0


@dataclass
class ReportPage:
    number: int
    png: bytes
    width_px: int
    height_px: int
    dpi: int
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportInput:
    filename: str
    document_id: str
    pages: list[ReportPage]
    findings: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    review: dict[str, Any]


@cache
def cjk_font() -> str:
    """Register and name the CJK font: an embedded TrueType if installed, else the standard CID font."""
    for path in FONT_CANDIDATES:
        if path.exists():
            pdfmetrics.registerFont(TTFont("ReportCJK", str(path), subfontIndex=0))
            return "ReportCJK"
    log.warning("no TrueType CJK font found; the report uses the non-embedded STSong-Light")
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def build_report(data: ReportInput) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"审核标注报告 {data.filename}")
    canvas.setAuthor("fiscalocr")
    for page in data.pages:
        _draw_page(canvas, page)
    _draw_summary(canvas, data)
    canvas.save()
    return buffer.getvalue()


def _draw_page(canvas: Canvas, page: ReportPage) -> None:
    """The page at its own size (pixels at the job's DPI -> points), boxes in the same coordinates."""
    scale = 72.0 / page.dpi
    width, height = page.width_px * scale, page.height_px * scale
    canvas.setPageSize((width, height))
    canvas.drawImage(ImageReader(io.BytesIO(page.png)), 0, 0, width=width, height=height)
    for finding in page.findings:
        colour = SEVERITY_COLOURS.get(str(finding.get("severity")), SEVERITY_COLOURS["info"])
        boxes = [b for b in finding.get("boxes", []) if len(b) == 4 and b[2] > b[0] and b[3] > b[1]]
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(1.6)
        for x0, y0, x1, y1 in boxes:
            canvas.rect(x0 * scale, height - y1 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
        if boxes:
            _number_tag(canvas, str(finding["number"]), boxes[0][0] * scale, height - boxes[0][1] * scale,
                        colour)
    canvas.showPage()


def _number_tag(canvas: Canvas, label: str, x: float, top: float, colour: Color) -> None:
    size = 8.0
    width = pdfmetrics.stringWidth(label, "Helvetica-Bold", size) + 5
    canvas.setFillColor(colour)
    canvas.rect(x - width, top - size - 3, width, size + 3, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(x - width + 2.5, top - size, label)


class _Writer:
    """Flowing lines of CJK text over as many A4 pages as they need (wrapped per character:
    Chinese has no spaces to break at)."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas, self.font = canvas, cjk_font()
        self.width, self.height = A4
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.canvas.setPageSize(A4)
        self.y = self.height - MARGIN

    def line(self, text: str, size: float = 10.0, colour: Color | None = None, indent: float = 0.0) -> None:
        for piece in wrap(text, lambda s: pdfmetrics.stringWidth(s, self.font, size),
                          self.width - 2 * MARGIN - indent):
            if self.y - size < MARGIN:
                self.canvas.showPage()
                self._new_page()
            self.canvas.setFont(self.font, size)
            self.canvas.setFillColor(colour or HexColor("#111111"))
            self.canvas.drawString(MARGIN + indent, self.y - size, piece)
            self.y -= size * 1.45

    def gap(self, points: float = 6.0) -> None:
        self.y -= points


def wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for char in text:
        if current and measure(current + char) > width:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current] if current or not lines else lines


def _cells_label(finding: dict[str, Any]) -> str:
    cells = [f"({c['row']},{c['col']})" for c in finding.get("cells", [])]
    return "、".join(cells) if cells else "无"


def _finding_lines(finding: dict[str, Any]) -> Iterable[tuple[str, float, Color | None, float]]:
    severity = str(finding.get("severity"))
    page = finding.get("page")
    where = f"第 {page} 页" if page else "页码未知"
    table = f"，表 {finding['table']}" if finding.get("table") else ""
    label = SEVERITY_NAMES.get(severity, severity)
    head = f"{finding['number']}. 【{label}】{finding.get('rule')}  {where}{table}"
    yield head, 10.5, SEVERITY_COLOURS.get(severity), 0.0
    yield str(finding.get("message", "")), 10.0, None, 14.0
    yield f"单元格（行,列）：{_cells_label(finding)}", 9.0, None, 14.0
    if finding.get("quote"):
        yield f"原文：{finding['quote']}", 9.0, None, 14.0
    if finding.get("expected") is not None or finding.get("actual") is not None:
        yield (f"应为：{finding.get('expected') or '—'}；实为：{finding.get('actual') or '—'}；"
               f"差额：{finding.get('difference') or '—'}"), 9.0, None, 14.0


def _draw_summary(canvas: Canvas, data: ReportInput) -> None:
    out = _Writer(canvas)
    counts = {s: sum(1 for f in data.findings if f.get("severity") == s) for s in SEVERITY_NAMES}
    out.line("审核标注报告", 18.0)
    out.gap()
    out.line(f"文件：{data.filename}（{data.document_id}）", 10.0)
    out.line(f"生成时间：{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}", 10.0)
    out.line("发现问题：" + "，".join(f"{SEVERITY_NAMES[s]} {n} 条" for s, n in counts.items()), 10.0)
    out.line(f"审核状态：{_review_label(data.review)}", 10.0)
    out.gap(10)
    out.line("一、问题清单", 13.0)
    if not data.findings:
        out.line("未发现问题。", 10.0)
    for finding in data.findings:
        out.gap(4)
        for text, size, colour, indent in _finding_lines(finding):
            out.line(text, size, colour, indent)
    out.gap(10)
    out.line("二、人工更正记录", 13.0)
    if not data.corrections:
        out.line("无。", 10.0)
    for c in reversed(data.corrections):  # oldest first, as they happened
        out.line(f"表 {c['table']} ({c['row']},{c['col']})：“{c['old']}” → “{c['new']}”"
                 f"（{c['who']}，{c['at'][:16].replace('T', ' ')}）", 9.5)
    out.gap(10)
    out.line("三、审核签字", 13.0)
    for ref, state in sorted(data.review.get("tables", {}).items()):
        out.line(f"表 {ref}：{_approval_label(state)}", 9.5)
    out.line(f"全文：{_approval_label(data.review.get('document', {}))}", 9.5)
    canvas.showPage()


def _approval_label(state: dict[str, Any]) -> str:
    if state.get("approved"):
        return f"已审核通过（{state.get('who')}，{str(state.get('at'))[:16].replace('T', ' ')}）"
    if state.get("stale"):
        return "审核后又有更正，需重新审核"
    return "未审核"


def _review_label(review: dict[str, Any]) -> str:
    labels = {"approved": "已审核通过", "in_review": "审核中", "open": "未审核"}
    return labels.get(review.get("state", ""), "未审核")
