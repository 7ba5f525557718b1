"""Rule registry, equations and grading with the rounding envelope (REFERENCE §1.1).

A check is a function ``(Context) -> Iterable[Equation | Finding]``. Equations are graded here:
|Δ| ≤ one printed unit (0.01 万元) passes; up to half a unit per term plus one ('尾数误差') is info
'rounding'; beyond that the rule's own severity. Every rule runs inside a guard: one that raises
becomes an ``internal`` finding and is logged, the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from fiscal.amounts import AmountKind, fmt
from fiscal.findings import INTERNAL, FindingKind, Severity
from fiscal.sheet import Amount, Line, Sheet
from ocr.contract import Finding

log = logging.getLogger(__name__)

HALF = Decimal("0.5")


@dataclass
class Equation:
    """``total (relation) Σ sign·part``; cells of both sides are blamed when it fails."""

    rule: str
    total: Amount
    parts: list[Amount]
    signs: list[int] | None = None
    relation: str = "="  # "=" or "<=" (total ≤ Σ parts)
    message: str = ""
    message_en: str = ""

    def terms(self) -> list[Amount]:
        return [self.total, *self.parts]


@dataclass
class Outcome:
    equation: Equation
    status: str  # pass | rounding | fail | invalid
    expected: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    tolerance: Decimal
    severity: Severity = "error"  # the declared severity of the equation's finding id


def value_of(amount: Amount) -> Decimal | None:
    """Number in 万元; blank, '-' and noise count as 0; None for unreadable text."""
    if amount.parsed.kind is AmountKind.NUMBER:
        return amount.value
    if amount.parsed.kind in (AmountKind.BLANK, AmountKind.DASH, AmountKind.NOISE):
        return Decimal(0)
    return None


def evaluate(eq: Equation, override: dict[tuple[str, int, int], Decimal] | None = None) -> Outcome:
    override = override or {}

    def val(a: Amount) -> Decimal | None:
        return override.get((a.table, a.row, a.col), value_of(a))

    signs = eq.signs or [1] * len(eq.parts)
    quantum = max((a.quantum for a in eq.terms()), default=Decimal("0.01"))
    values = [val(a) for a in eq.parts]
    total = val(eq.total)
    n_printed = sum(1 for a in eq.parts if a.parsed.kind is AmountKind.NUMBER)
    envelope = quantum * HALF * (n_printed + 1)
    if total is None or any(v is None for v in values):
        return Outcome(eq, "invalid", None, total, None, envelope)
    expected = sum((s * v for s, v in zip(signs, values, strict=True) if v is not None), Decimal(0))
    diff = total - expected
    if eq.relation == "<=":
        status = "pass" if diff <= quantum else "fail"
        return Outcome(eq, status, expected, total, diff, quantum)
    if abs(diff) <= quantum:
        status = "pass"
    elif abs(diff) <= envelope:
        status = "rounding"
    else:
        status = "fail"
    return Outcome(eq, status, expected, total, diff, envelope)


@dataclass
class Context:
    sheets: list[Sheet]
    narrative: list[str] = field(default_factory=list)
    year: int | None = None

    def of_kind(self, kind_id: str) -> list[Sheet]:
        return [s for s in self.sheets if s.kind.id == kind_id]

    def first(self, kind_id: str) -> Sheet | None:
        found = self.of_kind(kind_id)
        return found[0] if found else None

    def family(self) -> str:
        families = [s.kind.family for s in self.sheets if s.kind.family in ("final", "budget")]
        return max(set(families), key=families.count) if families else "unknown"


CheckFn = Callable[[Context], Iterable["Equation | Finding"]]


@dataclass(frozen=True)
class Rule:
    """A check and the finding ids it may emit; ``run_rules`` refuses any other id."""

    name: str
    check: CheckFn
    emits: tuple[FindingKind, ...]

    def kind(self, finding_id: str) -> FindingKind:
        for declared in self.emits:
            if declared.id == finding_id:
                return declared
        raise UndeclaredFindingError(f"rule {self.name} emitted {finding_id!r}, which it does not declare")


class UndeclaredFindingError(LookupError):
    """A rule emitted a finding id it does not declare (a programming error, reported as 'internal')."""



def sheet_forms(ctx: Context) -> dict[str, str | None]:
    return {s.id: s.table.form or s.kind.label for s in ctx.sheets}


def findings_for(outcome: Outcome, forms: dict[str, str | None], kind: FindingKind) -> list[Finding]:
    """One finding per table the equation touches, each with that table's own cells."""
    eq = outcome.equation
    if outcome.status == "pass":
        return []
    if outcome.status == "invalid":
        severity: Severity = "error"
        note, note_en = "含无法识别的金额", "an amount is unreadable"
    elif outcome.status == "rounding":
        severity, note, note_en = "info", "尾数误差（rounding）", "within the rounding envelope (rounding)"
    else:
        severity, note, note_en = kind.severity, "不平衡", "does not hold"
    by_table: dict[str, list[tuple[int, int]]] = {}
    for amount in eq.terms():
        if amount.col >= 0:
            by_table.setdefault(amount.table, []).append(amount.cell)
    out = []
    for table_id, cells in by_table.items():
        out.append(
            kind.finding(
                f"{eq.message}：{note}",
                f"{eq.message_en}: {note_en}",
                severity=severity,
                table=table_id,
                form=forms.get(table_id),
                cells=list(dict.fromkeys(cells)),
                expected=fmt(outcome.expected),
                actual=fmt(outcome.actual),
                difference=fmt(outcome.difference),
                tolerance=fmt(outcome.tolerance),
            )
        )
    return out


def line_amounts(line: Line) -> list[Amount]:
    return line.amounts


def run_rules(ctx: Context, rules: Sequence[Rule]) -> tuple[list[Finding], list[Outcome]]:
    forms = sheet_forms(ctx)
    findings: list[Finding] = []
    outcomes: list[Outcome] = []
    for spec in rules:
        try:
            for item in spec.check(ctx):
                if isinstance(item, Equation):
                    kind = spec.kind(item.rule)
                    outcome = replace(evaluate(item), severity=kind.severity)
                    outcomes.append(outcome)
                    findings.extend(findings_for(outcome, forms, kind))
                else:
                    spec.kind(item.rule)
                    findings.append(item)
        except Exception as exc:  # a broken rule must not hide the others
            log.exception("rule %s failed", spec.name)
            findings.append(INTERNAL.finding(f"规则 {spec.name} 执行异常：{type(exc).__name__}",
                                             f"rule {spec.name} raised {type(exc).__name__}: {exc}"))
    return _dedupe(findings), outcomes


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for finding in findings:
        key = (finding.rule, finding.table, tuple(finding.cells), finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
