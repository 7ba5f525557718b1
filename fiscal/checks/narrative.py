"""Narrative (情况说明) checks, REFERENCE §2.11: years, unit slips, restated figures, shares,
changes against the prior year, 五(三) item triples, listed-but-missing tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from fiscal import codes
from fiscal.checks.cross import select
from fiscal.checks.perf import fund_rows, share_verdict
from fiscal.checks.tables import coded_lines
from fiscal.findings import FindingKind, Severity
from fiscal.kinds import kind_from_title
from fiscal.rules import Context, Rule
from fiscal.sheet import Amount, Line
from ocr.contract import Finding

# bounded: a printed amount is < 20 characters, and unbounded runs make every pattern quadratic
_NUM = r"(\d[\d,]{0,23}(?:\.\d{1,6})?)"
_HEADING_RE = re.compile(
    r"^(?:-\s*)?([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+部分)"
)
_SENTENCE_RE = re.compile(r"[^。；;!?！？]+")
_YEAR_START_RE = re.compile(r"^\s*(?:\d+[.、]\s*)?(20\d{2})\s*年(度)?(?!\s*\d)")
_GARBLED_UNIT_RE = re.compile(r"万元\s*" + _NUM + r"\s*元")
_SHARE_RE = re.compile(
    _NUM + r"\s*万元[^，,。；%\d]{0,4}[，,]?\s*占[^0-9，。；]{0,12}?" + r"(\d+(?:\.\d+)?)\s*%"
)
_CHANGE_RE = re.compile(
    _NUM
    + r"\s*万元[^%万]{0,40}?(增加|减少)\s*"
    + _NUM
    + r"\s*万元(?:[，,。]?\s*(增长|下降|减少|增加)\s*"
    + r"(\d+(?:\.\d+)?)\s*%)?"
)
_NOT_PRIOR_SUBJECTS = ("采购", "购买", "三公", "资产", "出国", "接待", "公务用车")
# 五(三) items: '<类名>(类)<款名>(款)<项名>(项)。年初预算为B万元，支出决算为A万元，完成年初预算的C%'. The
# figures are found first (a linear pattern); the name chain is then read back to the sentence start
# without a regex: nested lazy '[^。]*?' groups backtrack cubically on hostile text.
_ITEM_TAIL_RE = re.compile(
    r"[。,，]?\s*年初预算为\s*"
    + _NUM
    + r"\s*万元[，,]\s*(?:支出)?决算为\s*"
    + _NUM
    + r"\s*万元[，,]\s*完成年初预算的\s*(\d+(?:\.\d+)?)\s*%"
)
_MAX_TOTALS = 64  # a real narrative states < 20 totals; bounds the share checks on hostile text
_ITEM_GAP = 6  # characters allowed between the chain's (项) and the figures
_LEVEL_MARK_RE = re.compile(r"[(（](类|款|项)[)）]+")
_ITEMS_INTRO_RE = re.compile(r"(人员经费|公用经费)\s*" + _NUM + r"\s*万元[，,]?\s*主要包括[:：]([^。]*)")


@dataclass
class Item:
    start: int  # where the name chain starts in the section text
    chain: str  # '<类名>(类)<款名>(款)<项名>(项)'
    budget: Decimal
    actual: Decimal
    shown: str  # completion rate as printed


@dataclass
class Section:
    heading: str
    text: str



YEAR = FindingKind("N.YEAR", "error", "年份", "year tokens",
                   "a sentence that opens with another year than the report's and states an amount "
                   "(comparisons with that year excepted)")
UNIT = FindingKind("N.UNIT", "error", "金额单位", "unit slips",
                   "the units of stated amounts: a garbled order (万元 … 元), an amount in 元 where "
                   "the tables print 万元")
SHARE = FindingKind("N.SHARE", "error", "占比", "shares",
                    "a stated percentage against stated part / whole "
                    "(warning when off by less than one point)")
CHANGE = FindingKind("N.CHANGE", "error", "增减变动", "year-on-year changes",
                     "a stated increase or decrease and its rate against the two stated amounts")
PRIOR = FindingKind("N.PRIOR", "error", "上年数", "previous year's figures",
                    "the previous-year amount a stated change implies against the prior-year column "
                    "of the performance table (or the previous year's report, fiscal.yoy)")
RESTATE = FindingKind("N.RESTATE", "error", "说明与表一致", "restated figures",
                      "each amount the narrative restates against its cell in the tables")
ITEM = FindingKind("N.ITEM", "error", "具体支出项目", "per-item triples",
                   "each 类/款/项 item the narrative explains: its names against the classification, its "
                   "rate against actual / budget, its amount against 表05")
LISTED_SUM = FindingKind("N.SUM", "error", "明细合计", "listed items add up",
                         "amounts listed in one sentence against the total that sentence "
                         "(or the table) states")
GRAND_TOTAL = FindingKind("N.TOTAL", "info", "收支总计", "grand totals",
                          "without 表01: the stated 收、支总计 against the stated 收入合计 and 支出合计")
CONTENTS = FindingKind("N.TOC", "error", "目录与表格", "tables listed but missing",
                       "the tables the contents page lists against the tables found in the report")


def sections(narrative: list[str]) -> list[Section]:
    out = [Section("", "")]
    for line in narrative:
        stripped = line.strip()
        if _HEADING_RE.match(stripped) and len(stripped) <= 40:
            out.append(Section(stripped, ""))
        else:
            out[-1].text += stripped
    return out


def items_in(text: str) -> list[Item]:
    """五(三) items of a section text, in order (linear in the text length)."""
    out: list[Item] = []
    floor = 0
    for tail in _ITEM_TAIL_RE.finditer(text):
        start = max(floor, text.rfind("。", floor, tail.start()) + 1)
        chain = _chain_before(text[start : tail.start()])
        if chain is not None:
            out.append(Item(start, chain, _dec(tail.group(1)), _dec(tail.group(2)), tail.group(3)))
            floor = tail.end()
    return out


def _chain_before(sentence: str) -> str | None:
    """'…(类)…(款)…(项)' ending at most _ITEM_GAP characters before the figures, else None."""
    marks = list(_LEVEL_MARK_RE.finditer(sentence))
    for i, mark in enumerate(marks):
        if mark.group(1) != "项" or len(sentence) - mark.end() > _ITEM_GAP:
            continue
        levels = [m.group(1) for m in marks[:i]]
        if "款" in levels and "类" in levels[: levels.index("款")]:
            return sentence[: mark.end()]
    return None


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _finding(  # noqa: PLR0917  (message helper: positional like Finding's own order)
    kind: FindingKind,
    severity: Severity,
    zh: str,
    en: str,
    amount: Amount | None = None,
    expected: Decimal | str | None = None,
    actual: Decimal | str | None = None,
) -> Finding:
    return kind.finding(
        zh,
        en,
        severity=severity,
        table=amount.table if amount else None,
        cells=[amount.cell] if amount else [],
        expected=None if expected is None else str(expected),
        actual=None if actual is None else str(actual),
    )


def _grade(stated: Decimal, actual: Decimal, n_terms: int = 1) -> str:
    diff = abs(stated - actual)
    if diff < Decimal("0.005"):
        return "pass"
    return "rounding" if diff <= Decimal("0.005") * (n_terms + 1) + Decimal("0.005") else "fail"


def _restated(
    kind: FindingKind, stated: Decimal, amount: Amount | None, what: str, n_terms: int = 1
) -> Iterator[Finding]:
    if amount is None or amount.value is None:
        return
    status = _grade(stated, amount.value, n_terms)
    if status == "pass":
        return
    severity: Severity = "info" if status == "rounding" else "error"
    note = "尾数误差（rounding）" if status == "rounding" else "不一致"
    yield _finding(
        kind,
        severity,
        f"说明中“{what}”{stated}万元与表中{amount.value}万元{note}",
        f"narrative {what} {stated} vs table {amount.value}",
        amount,
        amount.value,
        stated,
    )


# Words that make a sentence about the previous year a comparison with it.
_COMPARISON_WORDS = ("比", "较", "相比", "执行", "上年", "同期")


def _compares_with_report_year(sentence: str, year: int, report_year: int) -> bool:
    """A sentence naming the report year too, or the previous year beside a comparison, is right to name it.

    Budgets state the current year's execution before next year's plan (2025年执行数…，2026年预算…).
    """
    if f"{report_year}年" in sentence:
        return True
    return year == report_year - 1 and any(word in sentence for word in _COMPARISON_WORDS)


def _year_rule(ctx: Context) -> Iterator[Finding]:
    if ctx.year is None:
        return
    for section in sections(ctx.narrative):
        for sentence in _SENTENCE_RE.findall(section.text):
            match = _YEAR_START_RE.match(sentence)
            if (
                match
                and int(match.group(1)) != ctx.year
                and "万元" in sentence
                and "相比" not in sentence[:12]
                and not _compares_with_report_year(sentence, int(match.group(1)), ctx.year)
            ):
                yield _finding(
                    YEAR,
                    "error",
                    f"年份错误：“{sentence[:30]}…”中{match.group(1)}年应为{ctx.year}年",
                    f"wrong year {match.group(1)} (report year {ctx.year})",
                    expected=str(ctx.year),
                    actual=match.group(1),
                )


def _unit_rule(ctx: Context) -> Iterator[Finding]:
    table_amounts = _table_amounts(ctx)
    for section in sections(ctx.narrative):
        for match in _GARBLED_UNIT_RE.finditer(section.text):
            yield _finding(
                UNIT,
                "error",
                f"金额单位错乱：“{match.group(0)}”（应为{match.group(1)}万元）",
                "garbled unit order (万元 … 元)",
                expected=f"{match.group(1)}万元",
                actual=match.group(0),
            )
        for match in re.finditer(_NUM + r"\s*元", section.text):
            start = match.start()
            if section.text[max(0, start - 1) : start] in ("万", "千", "亿") or "." not in match.group(1):
                continue
            if re.search(r"万\s*$", section.text[max(0, start - 3) : start]) or _GARBLED_UNIT_RE.search(
                section.text[max(0, start - 6) : match.end()]
            ):
                continue
            if _dec(match.group(1)) in table_amounts and not section.text[start - 2 : start].endswith("万元"):
                yield _finding(
                    UNIT,
                    "error",
                    f"金额单位疑误：“{match.group(0)}”应为万元",
                    "amount written with 元 where the tables use 万元",
                    actual=match.group(0),
                )


def _table_amounts(ctx: Context) -> set[Decimal]:
    return {a.value for s in ctx.sheets for ln in s.lines for a in ln.amounts if a.value}


def _stated_totals(ctx: Context) -> list[Decimal]:
    """合计/总计/总预算 figures anywhere in the narrative (share denominators for every section)."""
    pattern = re.compile(r"(合计|总计|总预算)[^0-9，。；]{0,6}?" + _NUM + r"\s*万元")
    found = (_dec(m.group(2)) for other in sections(ctx.narrative) for m in pattern.finditer(other.text))
    distinct = list(dict.fromkeys(found))
    return distinct[:_MAX_TOTALS]


def _denominators(ctx: Context, section: Section, totals: list[Decimal]) -> list[Decimal]:
    out: list[Decimal] = []
    first = re.search(_NUM + r"\s*万元", section.text)
    if first:
        out.append(_dec(first.group(1)))
    out.extend(totals)
    for kind, row, fid in (
        ("final_05_general_public", "total", "total"),
        ("final_03_expenditure", "total", "total"),
        ("final_02_income", "total", "total"),
        ("final_01_income_expenditure", "key:income_total", "amount"),
        ("budget_01_summary", "key:income_total", "amount"),
        ("budget_05_general_public_function", "total", "total"),
    ):
        sheet = ctx.first(kind)
        amount = select(sheet, row, fid) if sheet else None
        if amount is not None and amount.value:
            out.append(amount.value)
    return out


def _listed_whole(text: str) -> list[Decimal]:
    """The sum of the parts a passage lists with their shares, when those shares add up to 100 %.

    A breakdown (A x万元，占p%；B y万元，占q%…) is of its own whole: the parts' sum is the
    denominator even when the passage never states the total (the 三公 items of their total).
    """
    listed = [(_dec(m.group(1)), Decimal(m.group(2))) for m in _SHARE_RE.finditer(text)]
    shares = sum((share for _, share in listed), Decimal(0))
    if len(listed) < 2 or abs(shares - 100) > Decimal("0.05") * len(listed):
        return []
    whole = sum((part for part, _ in listed), Decimal(0))
    return [whole] if whole > 0 else []


def _share_rule(ctx: Context) -> Iterator[Finding]:
    totals = _stated_totals(ctx)
    for section in sections(ctx.narrative):
        bases = _denominators(ctx, section, totals) + _listed_whole(section.text)
        for match in _SHARE_RE.finditer(section.text):
            part, shown = _dec(match.group(1)), match.group(2)
            if part == 0 or not bases:
                continue
            verdicts = [share_verdict(part, base, shown) for base in bases if base >= part]
            if not verdicts or any(v is None for v in verdicts):
                continue
            severity, exact = min((v for v in verdicts if v), key=lambda v: abs(v[1] - Decimal(shown)))
            yield _finding(
                SHARE,
                severity,
                f"“{match.group(0)}”占比有误，按金额应为{exact:.2f}%",
                f"share {shown}% should be {exact:.2f}%",
                expected=f"{exact:.2f}",
                actual=shown,
            )


def _change_rule(ctx: Context) -> Iterator[Finding]:
    priors = _perf_priors(ctx)
    for section in sections(ctx.narrative):
        for match in _CHANGE_RE.finditer(section.text):
            value, direction, delta, _word, shown = (
                match.group(1),
                match.group(2),
                match.group(3),
                match.group(4),
                match.group(5),
            )
            x, d = _dec(value), _dec(delta)
            prior = x - d if direction == "增加" else x + d
            if d == 0 and shown and Decimal(shown) != 0:
                yield _finding(CHANGE, "error", f"“{match.group(0)[:60]}”：增减0万元，变动率却为{shown}%",
                               f"no change in amount but a change rate of {shown}%",
                               expected="0", actual=shown)
            if prior <= 0 or d == 0:
                continue
            verdict = share_verdict(d, prior, shown) if shown else None
            if verdict is not None:
                _severity, exact = verdict
                yield _finding(
                    CHANGE,
                    "error",
                    f"“{match.group(0)[:60]}”：增减{d}万元对应{exact:.2f}%，不是{shown}%（上年基数{prior}）",
                    f"change rate {shown}% should be {exact:.2f}%",
                    expected=f"{exact:.2f}",
                    actual=shown,
                )
            clause = re.split(r"[。；;]", section.text[: match.start()])[-1][-30:]
            if not any(word in clause for word in _NOT_PRIOR_SUBJECTS):
                yield from _prior_check(clause, prior, priors)


_PRIOR_SUBJECTS = (
    ("机关运行经费", "运转类项目支出"),
    ("公用经费", "运转类项目支出"),
    ("人员经费", "人员类项目支出"),
    ("项目支出", "特定目标类项目支出"),
    ("一般公共预算", "财政拨款"),
    ("财政拨款", "财政拨款"),
    ("总计", "合计"),
    ("总预算", "合计"),
    ("收入合计", "合计"),
    ("支出合计", "合计"),
    ("收入预算", "合计"),
    ("支出预算", "合计"),
)


def _perf_priors(ctx: Context) -> dict[str, Amount]:
    out: dict[str, Amount] = {}
    for sheet in ctx.of_kind("perf_overall_target"):
        for row in fund_rows(sheet):
            if row.prior and row.prior[-1].value is not None:
                out.setdefault(row.label, row.prior[-1])
    return out


def _prior_check(text: str, prior: Decimal, priors: dict[str, Amount]) -> Iterator[Finding]:
    for word, label in _PRIOR_SUBJECTS:
        if word in text and label in priors:
            amount = priors[label]
            assert amount.value is not None
            status = _grade(prior, amount.value, 2)
            if status != "pass":
                yield _finding(
                    PRIOR,
                    "info" if status == "rounding" else "warning",
                    f"说明隐含的上年数{prior}万元与绩效目标表上年“{label}”{amount.value}万元不一致"
                    + ("（尾数误差 rounding）" if status == "rounding" else ""),
                    f"implied prior-year {prior} vs performance table {amount.value}",
                    amount,
                    amount.value,
                    prior,
                )
            return


def _restatement_rule(ctx: Context) -> Iterator[Finding]:
    final = ctx.family() == "final"
    for section in sections(ctx.narrative):
        text, heading = section.text, section.heading
        for word, target in _restatement_targets(final, heading):
            sheet = ctx.first(target[0])
            if sheet is None:
                continue
            for match in re.finditer(word + r"[^0-9，。；、增减]{0,8}?" + _NUM + r"\s*万元", text):
                yield from _restated(
                    RESTATE,
                    _dec(match.group(1)),
                    select(sheet, target[1], target[2]),
                    word.replace("\\", ""),
                )
        if "财政拨款" in heading or "一般公共预算" in heading:
            yield from _class_restatements(ctx, section, final)


def _restatement_targets(final: bool, heading: str) -> list[tuple[str, tuple[str, str, str]]]:
    if final:
        out = [
            ("人员经费", ("final_06_basic_economic", "key:personnel_total", "amount")),
            ("公用经费", ("final_06_basic_economic", "key:public_total", "amount")),
            ("财政拨款收、支总计", ("final_04_appropriation_summary", "key:grand_total", "amount")),
        ]
        if "财政拨款" not in heading:
            out.append(
                ("(?<!财政拨款)收、支总计", ("final_01_income_expenditure", "key:grand_total", "amount"))
            )
        if "支出决算情况" in heading and "财政拨款" not in heading:
            out.append(("基本支出", ("final_03_expenditure", "total", "basic_expenditure")))
        return out
    return [
        ("财政拨款收支总预算", ("budget_04_appropriation_summary", "key:grand_total", "amount")),
        ("(?<!财政拨款)收支总预算", ("budget_01_summary", "key:grand_total", "amount")),
    ]


def _class_restatements(ctx: Context, section: Section, final: bool) -> Iterator[Finding]:
    """Class amounts in 四 (财政拨款) and 五 (一般公共预算) against 表04 / 表05 (or budget 表4 / 表5)."""
    if "财政拨款" in section.heading and "一般公共预算" not in section.heading:
        kind, fid = (
            ("final_04_appropriation_summary", "total")
            if final
            else ("budget_04_appropriation_summary", "amount")
        )
    else:
        kind, fid = (
            ("final_05_general_public", "total") if final else ("budget_05_general_public_function", "total")
        )
    sheet = ctx.first(kind)
    if sheet is None:
        return
    for match in re.finditer(
        r"([\u4e00-\u9fff]{2,14}?)[(（]?类?[)）]?支出[(（]?类?[)）]?\s*" + _NUM + r"\s*万元", section.text
    ):
        code = codes.class_code_for_name(match.group(1) + "支出")
        if code is None:
            continue
        amount = _class_amount(sheet, code, fid)
        stated = _dec(match.group(2))
        if amount is None:
            continue
        n_terms = 1 if isinstance(amount, Amount) else len(amount)
        if isinstance(amount, list):
            total = sum((a.value or Decimal(0) for a in amount), Decimal(0))
            if _grade(stated, total, n_terms) == "fail":
                yield _finding(
                    RESTATE,
                    "error",
                    f"说明中类{code}“{match.group(1)}支出”{stated}万元与"
                    f"{sheet.kind.label}合计{total}万元不一致",
                    f"class {code} stated {stated} vs {total}",
                    amount[0],
                    total,
                    stated,
                )
            continue
        yield from _restated(RESTATE, stated, amount, f"{match.group(1)}支出")


def _class_amount(sheet: object, code: str, fid: str) -> Amount | list[Amount] | None:
    from fiscal.sheet import Sheet

    assert isinstance(sheet, Sheet)
    for line in sheet.lines:
        if line.key == f"class:{code}" or (line.code == code and not line.key):
            return line.get(fid)
    items = [
        ln.get(fid)
        for ln in coded_lines(sheet)
        if (ln.code or "").startswith(code) and len(ln.code or "") == 7
    ]
    present = [a for a in items if a is not None]
    return present or None


def _items_rule(ctx: Context) -> Iterator[Finding]:
    """五(三): each 'X(类)…(款)…(项)。年初预算为B，支出决算为A，完成C%' against 表05 and the dictionary."""
    t05 = ctx.first("final_05_general_public")
    rows = coded_lines(t05) if t05 else []
    for section in sections(ctx.narrative):
        for item in items_in(section.text):
            chain, budget, actual, shown = item.chain, item.budget, item.actual, item.shown
            names = [n.strip(" .、0123456789") for n in re.split(r"[(（](?:类|款|项)[)）]+", chain)][:3]
            if len(names) < 3:
                continue
            cls, kuan, xiang = (re.sub(r"^.*?(\d+[.、]|^)", "", n) for n in names)
            if budget and share_verdict(actual, budget, shown) is not None:
                yield _finding(
                    ITEM,
                    "error",
                    f"“{xiang}”完成率{shown}%与{actual}/{budget}不符",
                    "completion rate inconsistent",
                    actual=shown,
                )
            yield from _item_against_dictionary(cls, kuan, xiang)
            if rows:
                yield from _item_against_table(rows, kuan, xiang, actual)


def _item_against_dictionary(cls: str, kuan: str, xiang: str) -> Iterator[Finding]:
    if "和" in xiang and len(xiang) > 12:
        yield _finding(
            ITEM,
            "error",
            f"说明将两个项级科目合并为一项：“{xiang}”",
            "two items merged into one",
            actual=xiang,
        )
    class_code = codes.class_code_for_name(cls)
    func = codes.edition(codes.FUNCTION)
    if class_code is None:
        return
    kuans = func.by_name(kuan)
    if not any(k.code.startswith(class_code) for k in kuans):
        yield _finding(
            ITEM,
            "error",
            f"款级科目名称“{kuan}”不属于类{class_code}（分类表中无此款）",
            f"section name {kuan!r} is not a 款 of {class_code}",
            actual=kuan,
        )


def _item_against_table(rows: list[Line], kuan: str, xiang: str, actual: Decimal) -> Iterator[Finding]:
    lines = rows
    key = codes.name_key(xiang)
    named = [ln for ln in lines if ln.name and codes.name_key(ln.name) == key]
    if named:
        amount = named[0].get("total")
        if amount is not None and amount.value is not None and _grade(actual, amount.value) == "fail":
            yield _finding(
                ITEM,
                "error",
                f"“{xiang}”支出决算{actual}万元与表05中{amount.value}万元不一致",
                f"item {xiang}: narrative {actual} vs T05 {amount.value}",
                amount,
                amount.value,
                actual,
            )
        return
    same_amount = [ln for ln in lines if (a := ln.get("total")) is not None and a.value == actual]
    hint = f"；表中金额相同的行为“{same_amount[0].name}”" if same_amount else ""
    target = same_amount[0].get("total") if same_amount else None
    yield _finding(
        ITEM,
        "error",
        f"说明中的项级科目“{xiang}”不在表05中{hint}",
        f"item {xiang!r} named in the narrative is not in T05",
        target,
        None,
        xiang,
    )


def _personnel_items_rule(ctx: Context) -> Iterator[Finding]:
    for section in sections(ctx.narrative):
        for match in _ITEMS_INTRO_RE.finditer(section.text):
            stated = _dec(match.group(2))
            items = [_dec(v) for v in re.findall(_NUM + r"\s*万元", match.group(3))]
            if len(items) < 2:
                continue
            total = sum(items, Decimal(0))
            status = _grade(stated, total, len(items))
            if status != "pass":
                yield _finding(
                    LISTED_SUM,
                    "info" if status == "rounding" else "error",
                    f"{match.group(1)}{stated}万元与所列明细合计{total}万元不一致"
                    + ("（尾数误差 rounding）" if status == "rounding" else ""),
                    f"{match.group(1)} {stated} vs listed items {total}",
                    expected=total,
                    actual=stated,
                )


def _items_sum_rule(ctx: Context) -> Iterator[Finding]:
    """五(三) items: Σ A per class vs the class amounts of 五(二); Σ all A vs the stated total."""
    for section in sections(ctx.narrative):
        intro = re.search(r"年初预算为\s*" + _NUM + r"\s*万元[，,]\s*(?:支出)?决算为\s*" + _NUM, section.text)
        items = items_in(section.text)
        if intro is None or len(items) < 2 or intro.start() >= items[0].start:
            continue
        total = sum((item.actual for item in items), Decimal(0))
        stated = _dec(intro.group(2))
        status = _grade(stated, total, len(items))
        if status != "pass":
            yield _finding(
                LISTED_SUM,
                "info" if status == "rounding" else "error",
                f"各项支出决算合计{total}万元与总数{stated}万元不一致"
                + ("（尾数误差 rounding）" if status == "rounding" else ""),
                f"items sum {total} vs stated {stated}",
                expected=total,
                actual=stated,
            )
        yield from _per_class_sums(ctx, items)


def _per_class_sums(ctx: Context, items: list[Item]) -> Iterator[Finding]:
    stated_classes: dict[str, Decimal] = {}
    for section in sections(ctx.narrative):
        if "结构" not in section.heading:
            continue
        for match in re.finditer(
            r"([\u4e00-\u9fff]{2,14}?)[(（]?类?[)）]?(?:支出)?[(（]?类?[)）]?\s*" + _NUM + r"\s*万元",
            section.text,
        ):
            code = codes.class_code_for_name(
                match.group(1) + ("" if match.group(1).endswith("支出") else "支出")
            )
            if code and code not in stated_classes:
                stated_classes[code] = _dec(match.group(2))
    sums: dict[str, list[Decimal]] = {}
    for item in items:
        cls = re.split(r"[(（]类[)）]", item.chain)[0]
        cls = re.sub(r"^[\d.、\s]+", "", cls).strip()
        code = codes.class_code_for_name(cls)
        if code:
            sums.setdefault(code, []).append(item.actual)
    for code, values in sums.items():
        if code in stated_classes:
            total = sum(values, Decimal(0))
            status = _grade(stated_classes[code], total, len(values))
            if status != "pass":
                yield _finding(
                    LISTED_SUM,
                    "info" if status == "rounding" else "error",
                    f"类{code}各项合计{total}万元与结构说明中的{stated_classes[code]}万元不一致"
                    + ("（尾数误差 rounding）" if status == "rounding" else ""),
                    f"class {code}: items {total} vs stated {stated_classes[code]}",
                    expected=total,
                    actual=stated_classes[code],
                )


def _totals_rule(ctx: Context) -> Iterator[Finding]:
    """Without 表01: 收、支总计 vs 收入合计 / 支出合计 of the narrative itself (no carry-over stated)."""
    if ctx.first("final_01_income_expenditure") is not None or ctx.family() == "budget":
        return
    text = "".join(s.text for s in sections(ctx.narrative))
    grand = re.search(r"(?<!财政拨款)收、?支总计(?:均为|各为)?\s*" + _NUM + r"\s*万元", text)
    if grand is None or "结转" in text[: grand.start()][-200:]:
        return
    for word in ("收入合计", "支出合计"):
        match = re.search(word + r"\s*" + _NUM + r"\s*万元", text)
        if match:
            status = _grade(_dec(grand.group(1)), _dec(match.group(1)), 1)
            if status == "rounding":
                yield _finding(
                    GRAND_TOTAL,
                    "info",
                    f"收、支总计{grand.group(1)}万元与{word}{match.group(1)}万元相差（尾数误差 rounding）",
                    f"grand total vs {word}: rounding",
                    expected=match.group(1),
                    actual=grand.group(1),
                )


def _contents_rule(ctx: Context) -> Iterator[Finding]:
    present = {s.kind.id for s in ctx.sheets}
    listed: dict[str, str] = {}
    for line in ctx.narrative:
        compact = re.sub(r"\s+", "", line).lstrip("-")
        if len(compact) > 48 or not compact.endswith("表"):
            continue
        kind = kind_from_title(compact)
        if kind is not None and kind.family in ("final", "budget", "perf"):
            listed.setdefault(kind.id, compact)
    for kind_id, title in listed.items():
        if kind_id not in present:
            yield _finding(
                CONTENTS,
                "error",
                f"目录/正文列出“{title}”，但报告中没有该表（或仅为图片，无法核对）",
                f"table listed but missing or unverifiable: {kind_id}",
                actual=title,
            )


RULES = (
    Rule("N.YEAR", _year_rule, (YEAR,)),
    Rule("N.UNIT", _unit_rule, (UNIT,)),
    Rule("N.SHARE", _share_rule, (SHARE,)),
    Rule("N.CHANGE", _change_rule, (CHANGE, PRIOR)),
    Rule("N.RESTATE", _restatement_rule, (RESTATE,)),
    Rule("N.ITEM", _items_rule, (ITEM,)),
    Rule("N.SUM", _personnel_items_rule, (LISTED_SUM,)),
    Rule("N.SUM2", _items_sum_rule, (LISTED_SUM,)),
    Rule("N.TOTAL", _totals_rule, (GRAND_TOTAL,)),
    Rule("N.TOC", _contents_rule, (CONTENTS,)),
)
