"""Checks on the report's wording: template leftovers, doubled marks, years and dates, comparison words.

Each rule reads the narrative lines (and the tables' titles), quotes what it found between “ and ”
so the finding can be located on its page (fiscal.locate), and never needs a particular phrasing
of a particular report: the patterns are those of the document class (a heading naming the year,
截至…年…月…日, 决算数大于预算数 after the two amounts it compares).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from fiscal.checks.narrative import YEAR
from fiscal.findings import FindingKind, Severity
from fiscal.rules import Context, Rule
from fiscal.sheet import Amount, strip_ordinal
from ocr.contract import Finding

# Template leftovers: XX / ×× / ＊＊ standing for a name or number, {…} and 【…】 fields naming what to
# fill in (words, never a number: 沪府规【2016】168号 is a document number), fill-in prompts.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])(?:XX+|xx+|××+|＊{2,}|\*{2,}|某某)(?![A-Za-z])"
                          r"|\{[^{}\d]{1,20}\}|【[^【】\d]{1,20}】|此处填写|请填写|（填写[^）]{0,10}）")
_DOUBLED_MARK = re.compile(r"([，。；：、！？,;])\1")
_REPEATED_WORD = re.compile(r"([\u4e00-\u9fff]{2,4})\1")
# A heading or a table title that names the report's year: short, and about a 预算/决算.
_HEADING_YEAR = re.compile(r"(20\d{2})\s*年度?")
_HEADING_WORDS = ("决算", "预算")
_MAX_HEADING = 40
_LEADER = re.compile(r"[.．…·]{3,}\s*\d*$")
_AS_OF = re.compile(r"截[至止]\s*(20\d{2})\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?")
_SELF_COMPARE = re.compile(r"(?:比|较|同比|与)\s*(20\d{2})\s*年")
NUM = r"(\d[\d,]*(?:\.\d+)?)"
_BUDGETSTATED = re.compile(r"预算(?:数)?(?:为|是)?\s*" + NUM + r"\s*万元")
_ACTUALSTATED = re.compile(r"决算(?:数)?(?:为|是)?\s*" + NUM + r"\s*万元")
_VERDICT = re.compile(r"决算数?\s*(大于|小于|高于|低于|等于)[^，。；]{0,4}?预算数?"
                      r"|决算数?\s*[同与][^，。；]{0,4}?预算数?\s*持平")
_WINDOW = 160  # characters before a verdict in which its two amounts are stated


def _finding(kind: FindingKind, severity: Severity, zh: str, en: str, actual: str | None = None) -> Finding:
    return kind.finding(zh, en, severity=severity, actual=actual)


def narrative_text(ctx: Context) -> str:
    return "".join(re.sub(r"\s+", "", line) for line in ctx.narrative)


def _placeholder_rule(ctx: Context) -> Iterator[Finding]:
    titles = [s.table.title or "" for s in ctx.sheets] + [s.table.department or "" for s in ctx.sheets]
    for line in [*ctx.narrative, *titles]:
        for match in _PLACEHOLDER.finditer(line):
            context = line[max(0, match.start() - 8):match.end() + 8].strip()
            yield _finding(PLACEHOLDER, "error", f"模板占位符未替换：“{context}”",
                           f"template placeholder left in the report: {match.group(0)}", match.group(0))


def _doubled_rule(ctx: Context) -> Iterator[Finding]:
    for line in ctx.narrative:
        compact = re.sub(r"\s+", "", line)
        for match in _DOUBLED_MARK.finditer(compact):
            context = compact[max(0, match.start() - 10):match.end()]
            yield _finding(DOUBLED_MARK, "warning", f"标点重复：“{context}”", "doubled punctuation",
                           match.group(0))
        for match in _REPEATED_WORD.finditer(compact):
            context = compact[max(0, match.start() - 6):match.end() + 4]
            yield _finding(DOUBLED_WORD, "warning", f"词语重复：“{context}”",
                           f"repeated word: {match.group(1)}", match.group(0))


def heading_text(line: str) -> str:
    """A line without spaces, and without a contents line's dot leader and page number."""
    return _LEADER.sub("", re.sub(r"\s+", "", line))


def _headings(ctx: Context) -> list[str]:
    lines = [heading_text(line) for line in ctx.narrative]
    # A heading names a 预算/决算 and states no amount (a short sentence with 万元 is no heading).
    return [line for line in lines if len(line) <= _MAX_HEADING and "万元" not in line
            and any(word in line for word in _HEADING_WORDS)]


def _heading_year_rule(ctx: Context) -> Iterator[Finding]:
    """A heading or contents line about this 预算/决算 names the report's year."""
    if ctx.year is None:
        return
    for heading in _headings(ctx):
        if re.search(r"[比较与]\s*20\d{2}", heading):
            continue  # a comparison names another year on purpose
        for match in _HEADING_YEAR.finditer(heading):
            if int(match.group(1)) != ctx.year:
                yield _finding(YEAR, "error",
                               f"标题年份错误：“{heading}”中{match.group(1)}年应为{ctx.year}年",
                               f"heading names {match.group(1)}, the report is for {ctx.year}", heading)


def _as_of_years(ctx: Context) -> set[int]:
    """Years a 截至 date may name: a final account's own year; a budget's, the year it was prepared in."""
    assert ctx.year is not None
    return {ctx.year - 1} if ctx.family() == "budget" else {ctx.year}


def _date_rule(ctx: Context) -> Iterator[Finding]:
    if ctx.year is None:
        return
    allowed = _as_of_years(ctx)
    for match in _AS_OF.finditer(narrative_text(ctx)):
        if int(match.group(1)) not in allowed:
            yield _finding(AS_OF_DATE, "error", f"日期年份错误：“{match.group(0)}”（报告年度{ctx.year}）",
                           f"as-of date in {match.group(1)}, report year {ctx.year}", match.group(0))


def _self_compare_rule(ctx: Context) -> Iterator[Finding]:
    """比2026年预算增加… in the 2026 report compares the year with itself: the other year is meant."""
    if ctx.year is None:
        return
    text = narrative_text(ctx)
    for match in _SELF_COMPARE.finditer(text):
        if int(match.group(1)) == ctx.year:
            sentence = text[max(0, match.start() - 24):match.end() + 12]
            yield _finding(YEAR, "error", f"比较年份错误：“{sentence}”与本年度{ctx.year}年自身比较",
                           f"compares {ctx.year} with itself", match.group(0))


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _compare_rule(ctx: Context) -> Iterator[Finding]:
    """决算数大于/小于/等于预算数 against the 预算 and 决算 amounts stated just before it."""
    text = narrative_text(ctx)
    for verdict in _VERDICT.finditer(text):
        window = text[max(0, verdict.start() - _WINDOW):verdict.start()]
        budgets, actuals = list(_BUDGETSTATED.finditer(window)), list(_ACTUALSTATED.finditer(window))
        if not budgets or not actuals:
            continue
        budget, actual = _amount(budgets[-1].group(1)), _amount(actuals[-1].group(1))
        word = verdict.group(1) or "等于"  # 同/与预算数持平 says they are equal
        holds = {"大于": actual > budget, "高于": actual > budget, "小于": actual < budget,
                 "低于": actual < budget, "等于": actual == budget}[word]
        if not holds:
            quote = text[max(0, verdict.start() - 30):verdict.end()]
            yield _finding(COMPARISON, "error",
                           f"比较词与金额矛盾：“{quote}”（预算{budget}万元，决算{actual}万元）",
                           f"'{verdict.group(0)}' contradicts budget {budget} vs actual {actual}",
                           verdict.group(0))


PLACEHOLDER = FindingKind("N.PLACEHOLDER", "error", "模板占位符", "template placeholders",
                          "the narrative, table titles and department names against the marks a template "
                          "leaves to fill in (XX, ××, 某某, 【…】, 请填写)")
DOUBLED_MARK = FindingKind("N.PUNCT", "warning", "标点重复", "doubled punctuation",
                           "neighbouring punctuation marks: the same mark twice")
DOUBLED_WORD = FindingKind("N.REPEAT", "warning", "词语重复", "doubled words",
                           "neighbouring words: the same word of two to four characters twice")
AS_OF_DATE = FindingKind("N.DATE", "error", "截至日期年份", "as-of dates",
                         "the year of a 截至…年…月…日 date against the report's year")
COMPARISON = FindingKind("N.COMPARE", "error", "比较词与金额", "comparison words against amounts",
                         "a stated verdict (决算数大于/小于/等于预算数) against the two amounts it compares")
_TEXT_RULES = (
    Rule("N.PLACEHOLDER", _placeholder_rule, (PLACEHOLDER,)),
    Rule("N.PUNCT", _doubled_rule, (DOUBLED_MARK, DOUBLED_WORD)),
    Rule("N.YEAR.heading", _heading_year_rule, (YEAR,)),
    Rule("N.DATE", _date_rule, (AS_OF_DATE,)),
    Rule("N.YEAR.self", _self_compare_rule, (YEAR,)),
    Rule("N.COMPARE", _compare_rule, (COMPARISON,)),
)


# -- amounts the narrative restates -----------------------------------------------------------------

STATED = re.compile(r"([\u4e00-\u9fff（）()“”]{2,40}?)(?:为|是|共|达)?\s*" + NUM + r"\s*万元")
_LEVEL_MARK = re.compile(r"[（(][类款项][)）]")
CLAUSE_BREAK = re.compile(r"[，。；：:,;、]")
# Words that make an amount something other than the row's own value: a change, a plan, a share.
_NOT_THE_VALUE = ("增加", "减少", "增长", "下降", "比", "较", "年初", "预算为", "上年", "占", "结转",
                  "调整", "追加")
_MIN_LABEL = 4
_ONE_ROW = 2  # data rows of a table read by its column headings (三公 and 机关运行经费 tables)


def row_values(ctx: Context) -> dict[str, list[tuple[Decimal, str, tuple[int, int]]]]:
    """Name -> every amount printed under it, in 万元: a row's label, or in a one-row table (三公,
    机关运行经费) a column's heading."""
    rows: dict[str, list[tuple[Decimal, str, tuple[int, int]]]] = {}

    def add(name: str, amount: Amount) -> None:
        label = _LEVEL_MARK.sub("", strip_ordinal(name))
        if len(label) >= _MIN_LABEL and amount.value is not None:
            rows.setdefault(label, []).append((amount.value, amount.table, amount.cell))

    for sheet in ctx.sheets:
        one_row = len([line for line in sheet.lines if line.amounts]) <= _ONE_ROW
        for line in sheet.lines:
            for amount in line.amounts:
                add(line.name or line.label or "", amount)
                if one_row:
                    add(amount.header.rsplit("/", 1)[-1], amount)
    return rows


# How the narrative names a total that the summary tables print under another name.
_QUALIFIERS = ("拨款", "基金", "资本", "财政", "公共", "经营", "事业", "其他", "基本", "项目")
_TOTAL_NAMES = {"收入预算": ("收入总计", "本年收入合计", "收入合计"),
                "支出预算": ("支出总计", "本年支出合计", "支出合计")}


def label_of(clause: str, labels: list[str]) -> str | None:
    """The longest table row label the clause ends with (after level marks are dropped)."""
    tail = _LEVEL_MARK.sub("", clause)
    tail = re.sub(r"(?:为|是|共|达)$", "", tail)
    for label in labels:
        if tail.endswith(label):
            return label
    for said, printed in _TOTAL_NAMES.items():
        # Only the unqualified total: 政府性基金拨款支出预算 is one fund's part of it.
        if tail.endswith(said) and not any(word in tail[:-len(said)] for word in _QUALIFIERS):
            return next((name for name in printed if name in labels), None)
    return None


def _restated_amount_rule(ctx: Context) -> Iterator[Finding]:
    """'本年收入合计 2959.25万元' must be a figure printed in the table row of that name."""
    rows = row_values(ctx)
    labels = sorted(rows, key=len, reverse=True)
    text = narrative_text(ctx)
    for match in STATED.finditer(text):
        clause = CLAUSE_BREAK.split(text[max(0, match.start() - 40):match.start(2)])[-1]
        if any(word in clause for word in _NOT_THE_VALUE):
            continue
        label = label_of(clause, labels)
        if label is None:
            continue
        stated = _amount(match.group(2))
        printed = rows[label]
        if any(abs(value - stated) <= Decimal("0.01") for value, _, _ in printed):
            continue
        table, cell = printed[0][1], printed[0][2]
        yield RESTATED_ROW.finding(
            f"说明中“{clause}{match.group(2)}万元”与表中“{label}”"
            f"（{'、'.join(str(v) for v, _, _ in printed[:4])}万元）不符",
            f"narrative {label} {stated} is not printed in its table row",
            table=table, cells=[cell], expected=str(printed[0][0]), actual=str(stated))


RESTATED_ROW = FindingKind("N.AMOUNT", "error", "说明金额与表内数", "restated amounts against table rows",
                           "an amount the narrative states for a row label against every amount printed in "
                           "that row")
RULES = (*_TEXT_RULES, Rule("N.AMOUNT", _restated_amount_rule, (RESTATED_ROW,)))
