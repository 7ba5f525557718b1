"""Table structure: unreadable amounts, ragged/misaligned rows, duplicated codes, codes and names
against the dictionary, empty tables and their statements."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from fiscal import codes
from fiscal.amounts import AmountKind
from fiscal.findings import FindingKind
from fiscal.rules import Context, Rule
from ocr.contract import Finding, Table

_SHOWN = 40  # characters of an unreadable amount quoted in a finding
_EMPTY_STATEMENT_RE = re.compile(r"(无|没有|未)[^。]{0,30}(收入|支出|经费|安排)|空表")
STRUCTURE = FindingKind("T.STRUCT", "warning", "表格结构", "table structure",
                        "a structural problem the table reader reported that has no id of its own")
ALIGN = FindingKind("T.ALIGN", "warning", "金额未对齐", "amounts not aligned",
                    "where a row's amounts sit against the amount columns of the header")
REPEAT = FindingKind("T.REPEAT", "info", "跨页重复行", "repeated rows at page breaks",
                     "header and total rows repeated on a continuation page (dropped, not counted)")
TRUNCATED = FindingKind("T.TRUNC", "error", "表格截断", "table cut off",
                        "whether a table ends at a page break without its total rows")
CODE_PAD = FindingKind("T.CODEPAD", "warning", "编码缺少前导零", "code without leading zero",
                       "printed code parts against the two-digit 款/项 width of the classification")
TEXT_IN_AMOUNT = FindingKind("T.TEXT", "error", "金额栏文字", "text in amount column",
                             "each amount cell: an amount, a dash or nothing")
NOISE_IN_AMOUNT = FindingKind("T.NOISE", "warning", "金额栏疑似污点", "marks in an amount cell",
                              "an amount cell read, unsure, as a mark or two without a digit: taken as blank")
RAGGED = FindingKind("T.RAGGED", "warning", "行长度不一致", "ragged rows",
                     "the number of cells in each row against the widest row")
DUPLICATE_CODE = FindingKind("T.DUPCODE", "error", "编码重复", "duplicated code",
                             "the classification codes of one table: each printed once")
CODE_REPAIR = FindingKind("C.CODE", "warning", "编码疑似识别错误", "code likely misread",
                          "an unknown code against the code its name has in the classification")
CODE_UNKNOWN = FindingKind("C.UNKNOWN", "warning", "编码不在分类表", "code not in the classification",
                           "each code against the year's function or economic classification")
OLD_NAME = FindingKind("C.ALIAS", "warning", "科目旧名称", "old item name",
                       "each item name against the classification's current name of its code")
NAME_MISMATCH = FindingKind("C.NAME", "warning", "科目名称不一致", "item name differs",
                            "each item name against the classification's name of its code")
NAME_MISREAD = FindingKind("C.NAMEOCR", "warning", "科目名称疑似识别错误", "item name likely misread",
                           "an item name one edit away from the classification's name of its code")
EMPTY_TABLE = FindingKind("T.EMPTY", "warning", "空表说明", "empty-table statement",
                          "a table without amounts against a statement that it is empty "
                          "(info when the statement is there)")
_PROBLEM_KINDS = {
    "misaligned_row": (ALIGN, "amounts not aligned with the columns"),
    "repeated_header": (REPEAT, "repeated header row (page break) dropped"),
    "repeated_total": (REPEAT, "repeated total row (page break) dropped"),
    "truncated": (TRUNCATED, "table appears cut off at a page break"),
    "unpadded_code": (CODE_PAD, "code part printed without its leading zero; read as padded"),
}


# informational problems that recur once per row: one finding per table, not one per row
_FOLDED = {"repeated_header", "repeated_total"}


def _problems(ctx: Context) -> Iterator[Finding]:
    for sheet in ctx.sheets:
        folded: dict[str, list[str]] = {}
        for code, message, cells in sheet.problems:
            if code in _FOLDED:
                folded.setdefault(code, []).append(message)
                continue
            yield _problem_finding(sheet.id, sheet.table.form, code, message, cells)
        for code, messages in folded.items():
            yield _problem_finding(sheet.id, sheet.table.form, code, "；".join(messages), [])


def _problem_finding(
    table: str, form: str | None, code: str, message: str, cells: list[tuple[int, int]]
) -> Finding:
    kind, en = _PROBLEM_KINDS.get(code, (STRUCTURE, code))
    return kind.finding(message, en, table=table, form=form, cells=cells)


def _unreadable(ctx: Context) -> Iterator[Finding]:
    for sheet in ctx.sheets:
        if sheet.kind.family == "perf" or sheet.kind.id == "unknown":
            continue
        for line in sheet.lines:
            for amount in line.amounts:
                if amount.parsed.kind is AmountKind.NOISE:
                    yield NOISE_IN_AMOUNT.finding(
                        table=sheet.id,
                        form=sheet.table.form,
                        message=f"金额栏“{amount.header}”中识别出“{amount.text}”（置信度{amount.confidence:.2f}），"
                                "疑为污点，按空白处理",
                        message_en=f"amount column {amount.header!r}: read {amount.text!r} with confidence "
                                   f"{amount.confidence:.2f}; taken as a speck, blank",
                        cells=[amount.cell],
                        actual=amount.text,
                    )
                if amount.parsed.kind is AmountKind.INVALID and amount.col >= 0:
                    yield TEXT_IN_AMOUNT.finding(
                        table=sheet.id,
                        form=sheet.table.form,
                        message=f"金额栏“{amount.header}”中为无法识别的内容“{amount.text[:_SHOWN]}”",
                        message_en=f"text in amount column {amount.header!r}: {amount.text[:_SHOWN]!r}",
                        cells=[amount.cell],
                        actual=amount.text[:_SHOWN],
                    )


def _row_widths(table: Table) -> dict[int, int]:
    """Row -> one past its last occupied column (screened tables: spans inside the grid)."""
    widths: dict[int, int] = {}
    for cell in table.cells:
        right = cell.col + max(1, cell.col_span)
        for r in range(cell.row, cell.row + max(1, cell.row_span)):
            widths[r] = max(widths.get(r, 0), right)
    return widths


def _ragged(ctx: Context) -> Iterator[Finding]:
    for sheet in ctx.sheets:
        table = sheet.table
        widths = _row_widths(table)
        n_cols = max(widths.values(), default=0)
        short = sorted(r for r, width in widths.items() if width < n_cols)
        if short and len(set(widths.values())) > 1:
            yield RAGGED.finding(
                table=sheet.id,
                form=table.form,
                message=f"表格行长度不一致（{len(short)}行缺少单元格）",
                message_en=f"ragged table: {len(short)} rows have missing cells",
                cells=[(r, 0) for r in short[:20]],
            )


def _duplicate_codes(ctx: Context) -> Iterator[Finding]:
    for sheet in ctx.sheets:
        if sheet.kind.layout not in ("coded", "econ_groups") or sheet.kind.code_system == "none":
            continue
        counts = Counter(ln.code for ln in sheet.lines if ln.code)
        for code, n in counts.items():
            if n > 1:
                cells = [c for ln in sheet.lines if ln.code == code for c in ln.code_cells]
                yield DUPLICATE_CODE.finding(
                    table=sheet.id,
                    form=sheet.table.form,
                    message=f"科目编码{code}重复出现{n}次",
                    message_en=f"code {code} appears {n} times",
                    cells=cells,
                )


def _dictionary(ctx: Context) -> Iterator[Finding]:
    """H02.4: codes and names per the year's classification; one-edit OCR repairs proposed."""
    for sheet in ctx.sheets:
        system = {"function": codes.FUNCTION, "economic": codes.ECONOMIC}.get(sheet.kind.code_system)
        if system is None or sheet.kind.layout not in ("coded", "econ_groups"):
            continue
        for line in sheet.lines:
            if not line.code or not line.name:
                continue
            verdict = codes.check_name(line.code, line.name, system, ctx.year)
            yield from _verdict_findings(
                sheet.id, sheet.table.form, line.code, line.name, line.code_cells, verdict, system, ctx.year
            )


def _verdict_findings(  # noqa: PLR0917
    table: str,
    form: str | None,
    code: str,
    name: str,
    cells: list[tuple[int, int]],
    verdict: codes.NameVerdict,
    system: str,
    year: int | None,
) -> Iterator[Finding]:
    if verdict.status == "unknown_code":
        fixed = codes.repair_code(code, name, system, year)
        if fixed:
            yield CODE_REPAIR.finding(
                table=table,
                form=form,
                cells=cells,
                message=f"编码{code}不在分类表中，按名称“{name}”应为{fixed}（疑似识别错误）",
                message_en=f"code {code} unknown; name matches {fixed} (likely OCR damage)",
                expected=fixed,
                actual=code,
            )
        else:
            yield CODE_UNKNOWN.finding(
                table=table,
                form=form,
                cells=cells,
                message=f"编码{code}（{name}）不在参考分类表中",
                message_en=f"code {code} not in the reference classification",
                actual=code,
            )
    elif verdict.status == "alias":
        yield OLD_NAME.finding(
            table=table,
            form=form,
            cells=cells,
            message=f"科目{code}使用旧名称“{name}”，现行名称为“{verdict.expected}”",
            message_en=f"{code} uses an old name",
            expected=verdict.expected,
            actual=name,
        )
    elif verdict.status == "mismatch":
        fixed = codes.repair_name(code, name, system, year)
        yield (NAME_MISREAD if fixed else NAME_MISMATCH).finding(
            table=table,
            form=form,
            cells=cells,
            expected=verdict.expected,
            actual=name,
            message=f"科目{code}名称“{name}”与分类表“{verdict.expected}”不一致",
            message_en=f"name of {code} differs from the classification",
        )


def _empty_tables(ctx: Context) -> Iterator[Finding]:
    for sheet in ctx.sheets:
        if sheet.kind.family not in ("final", "budget") or sheet.kind.layout == "listing":
            continue
        has_money = any(a.value for ln in sheet.lines for a in ln.amounts)
        if has_money:
            continue
        stated = any(_EMPTY_STATEMENT_RE.search(note) for note in sheet.table.notes)
        if not stated:
            yield EMPTY_TABLE.finding(
                table=sheet.id,
                form=sheet.table.form,
                message=f"{sheet.kind.label}为空表，但未见空表说明",
                message_en="empty table without an explanatory statement",
            )
        else:
            yield EMPTY_TABLE.finding(
                severity="info",
                table=sheet.id,
                form=sheet.table.form,
                message=f"{sheet.kind.label}为空表（有空表说明）",
                message_en="empty table with statement",
            )


RULES = (
    Rule("T.STRUCT", _problems, (STRUCTURE, ALIGN, REPEAT, TRUNCATED, CODE_PAD)),
    Rule("T.TEXT", _unreadable, (TEXT_IN_AMOUNT, NOISE_IN_AMOUNT)),
    Rule("T.RAGGED", _ragged, (RAGGED,)),
    Rule("T.DUPCODE", _duplicate_codes, (DUPLICATE_CODE,)),
    Rule("H02.4", _dictionary, (CODE_REPAIR, CODE_UNKNOWN, OLD_NAME, NAME_MISMATCH, NAME_MISREAD)),
    Rule("T.EMPTY", _empty_tables, (EMPTY_TABLE,)),
)
