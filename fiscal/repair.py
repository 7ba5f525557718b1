"""Repair of single OCR confusions proven by the identities.

When equations fail and exactly one low-confidence cell among their terms can be changed by one
plausible OCR confusion so that every equation touching that cell holds, a Correction is proposed
(the original text kept). High-confidence cells are never candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from fiscal.amounts import AmountKind, fmt, parse_amount
from fiscal.rules import Outcome, evaluate
from fiscal.sheet import Amount
from ocr.contract import Correction

_SWAPS = {"1": "7", "7": "1", "0": "8", "8": "03", "3": "8", "5": "6", "6": "5"}
_TOLERANCE = Decimal("0.01")
_LONGEST = 24  # characters: longer "amounts" are not printed money and get no repair


class RepairPolicy(StrEnum):
    OFF = "off"
    PROPOSE = "propose"
    APPLY = "apply"


@dataclass(frozen=True)
class RepairOptions:
    policy: RepairPolicy = RepairPolicy.PROPOSE
    confidence_threshold: float = 0.8


def confusion_variants(text: str) -> set[str]:
    """Texts one OCR confusion away from `text` (the inverse of each confusion we model)."""
    raw = text.replace(" ", "")
    out: set[str] = set()
    digits_only = raw.replace(",", "").replace(".", "")
    # lost decimal point: put one back anywhere; extra point: drop one
    if "." not in raw:
        out.update(raw[:i] + "." + raw[i:] for i in range(1, len(raw)))
    for i, ch in enumerate(raw):
        if ch in ".,":
            out.add(raw[:i] + raw[i + 1 :])
            out.add(raw[:i] + ("," if ch == "." else ".") + raw[i + 1 :])  # comma <-> point
        for swap in _SWAPS.get(ch, ""):
            out.add(raw[:i] + swap + raw[i + 1 :])
    out.update(
        d + raw for d in ("0123456789" if raw.startswith(".") else "123456789")
    )  # dropped leading digit
    if digits_only.isdigit() and raw.count(".") > 1:
        head, _, tail = raw.rpartition(".")
        out.add(head.replace(".", ",") + "." + tail)
    out.discard(raw)
    return {v for v in out if re.fullmatch(r"[\d.,]+", v) and parse_amount(v).kind is AmountKind.NUMBER}


def _touching(outcomes: list[Outcome], key: tuple[str, int, int]) -> list[Outcome]:
    return [o for o in outcomes if any((a.table, a.row, a.col) == key for a in o.equation.terms())]


def _holds(outcome: Outcome, key: tuple[str, int, int], value: Decimal) -> bool:
    again = evaluate(outcome.equation, {key: value})
    return again.status in ("pass", "rounding")


def propose(outcomes: list[Outcome], options: RepairOptions) -> list[tuple[Amount, Correction]]:
    """One correction per failing cluster whose only low-confidence cell has a unique proven fix."""
    outcomes = [o for o in outcomes if o.severity == "error"]
    failing = [o for o in outcomes if o.status in ("fail", "invalid")]
    proposals: dict[tuple[str, int, int], tuple[Amount, Correction]] = {}
    for outcome in failing:
        low = {
            (a.table, a.row, a.col): a
            for a in outcome.equation.terms()
            if a.col >= 0
            and a.confidence < options.confidence_threshold
            and a.parsed.kind is not AmountKind.BLANK
        }
        if len(low) != 1 or len(next(iter(low.values())).text) > _LONGEST:
            continue
        key, amount = next(iter(low.items()))
        if key in proposals:
            continue
        factor = (
            amount.value / amount.parsed.value
            if amount.value and amount.parsed.value
            else amount.quantum / Decimal("0.01")
        )
        touching = _touching(outcomes, key)
        fixes = _proven_fixes(amount.text, factor, key, touching)
        values = {c for _, c in fixes}
        if len(values) == 1:
            variant = _canonical(fixes[0][0], values.pop(), factor)
            proposals[key] = (
                amount,
                Correction(
                    table=amount.table,
                    cell=amount.cell,
                    original=amount.text,
                    proposed=variant,
                    reason=f"OCR confusion repaired: all {len(touching)} identities touching the cell hold",
                ),
            )
    return list(proposals.values())


def _proven_fixes(
    text: str, factor: Decimal, key: tuple[str, int, int], touching: list[Outcome]
) -> list[tuple[str, Decimal]]:
    """Confusion variants of the cell's text under which every identity touching the cell holds."""
    fixes = []
    for variant in sorted(confusion_variants(text)):
        parsed = parse_amount(variant)
        if parsed.value is None:
            continue
        candidate = parsed.value * factor
        if all(_holds(o, key, candidate) for o in touching):
            fixes.append((variant, candidate))
    return fixes


def _canonical(variant: str, value: Decimal, factor: Decimal) -> str:
    printed = value / factor if factor else value
    text = fmt(printed) or variant
    if "," in variant:
        head, _, tail = text.partition(".")
        text = f"{int(head):,}.{tail}"
    return text
