"""Money as printed -> Decimal in 万元, keeping blank, '-' and unreadable text apart."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ocr.contract import UNSURE

WAN = "万元"
_DASHES = {"-", "—", "－", "--", "——", "/", "−"}
_PLAIN_RE = re.compile(r"^[-−]?\d+(\.\d+)?$")
_THOUSANDS_RE = re.compile(r"^[-−]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LOOSE_NUMBER_RE = re.compile(r"[-−]?[\d.,]+")  # fullmatch + a digit check: linear on long text

UNIT_FACTORS: dict[str, Decimal] = {
    "万元": Decimal(1),
    "元": Decimal("0.0001"),
    "千元": Decimal("0.1"),
    "亿元": Decimal(10000),
}


class AmountKind(StrEnum):
    BLANK = "blank"
    DASH = "dash"
    NUMBER = "number"
    INVALID = "invalid"
    NOISE = "noise"  # a mark or two the recogniser was unsure of, no digit among them: taken as blank


@dataclass(frozen=True)
class ParsedAmount:
    kind: AmountKind
    value: Decimal | None = None  # in the printed unit
    decimals: int = 2

    @property
    def is_number(self) -> bool:
        return self.kind is AmountKind.NUMBER


def clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def parse_amount(text: str) -> ParsedAmount:
    """'2,875.84' -> 2875.84; '' -> blank; '-' -> dash; '1.2.3' or '合计' -> invalid."""
    raw = clean(text)
    if raw == "":
        return ParsedAmount(AmountKind.BLANK)
    if raw in _DASHES:
        return ParsedAmount(AmountKind.DASH)
    if _PLAIN_RE.match(raw) or _THOUSANDS_RE.match(raw):
        digits = raw.replace(",", "").replace("−", "-")
        try:
            value = Decimal(digits)
        except InvalidOperation:
            return ParsedAmount(AmountKind.INVALID)
        decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
        return ParsedAmount(AmountKind.NUMBER, value, decimals)
    return ParsedAmount(AmountKind.INVALID)


# Specks and smudges in an empty cell read as one or two characters; a longer reading is something printed.
_LONGEST_NOISE = 2


def amount_in_cell(text: str, confidence: float) -> ParsedAmount:
    """What an amount cell holds: an amount, a dash, nothing, noise or unreadable text.

    A cell of an amount column holds an amount, a dash or nothing. A scan's specks in an empty
    cell come out as a character or two (口, 丶, a letter): when the recogniser was unsure of that
    reading and it has no digit, it is noise (blank, and said so in a finding); a sure reading, or
    one with a digit, stays unreadable text, an error: never a silent number.
    """
    parsed = parse_amount(text)
    if parsed.kind is not AmountKind.INVALID or confidence >= UNSURE:
        return parsed
    raw = clean(text)
    if len(raw) <= _LONGEST_NOISE and not any(ch.isdigit() for ch in raw):
        return ParsedAmount(AmountKind.NOISE)
    return parsed


def looks_numeric(text: str) -> bool:
    """Digits with separators, possibly damaged ('1.179.10'): something meant as a number."""
    raw = clean(text)
    if raw in _DASHES:
        return True
    return bool(_LOOSE_NUMBER_RE.fullmatch(raw)) and any(ch.isdigit() for ch in raw)


def unit_factor(unit: str | None) -> Decimal:
    """Multiplier from the printed unit to 万元; unknown or missing units count as 万元."""
    if not unit:
        return Decimal(1)
    compact = clean(unit)
    for name in ("万元", "千元", "亿元", "元"):
        if name in compact:
            return UNIT_FACTORS[name]
    return Decimal(1)


def fmt(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0")
        head, _, tail = text.partition(".")
        text = f"{head}.{tail.ljust(2, '0')}"
    else:
        text = f"{text}.00"
    return text
