"""Mutation and repair measurements on the seed tables (seeded RNG, 500 trials each).

Mutation population: every printed amount of the recognised 决算/预算 tables of seeds 000 and 001.
A mutation changes the value by at least 0.02 万元 (a 0.01 change is inside the rounding envelope by
design). Repair: one OCR-style confusion in one cell marked low-confidence; the policy 'apply' must
restore it or leave it alone, never write a wrong value, never touch a high-confidence cell.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from fiscal_helpers import blamed, money_cells, with_cell

from fiscal import RepairPolicy, enrich
from fiscal.amounts import parse_amount
from fiscal.pipeline import validate
from fiscal.textdoc import parse_text_document
from ocr.contract import Extraction, Source

TRIALS = 500


@pytest.fixture(scope="module")
def seed_tables(seed_text):
    out = []
    for seed in ("000", "001"):
        doc = parse_text_document(seed_text(seed))
        result = validate(doc.tables)
        keep = {s.id for s in result.sheets if s.kind.family in ("final", "budget")}
        tables = [t.model_copy(update={"id": f"s{seed}-{t.id}"}) for t in result.tables if t.id in keep]
        out.append(tables)
    return out


def _mutate(rng: random.Random, text: str) -> str:
    value = parse_amount(text).value
    assert value is not None
    while True:
        delta = Decimal(rng.randint(2, max(3, int(abs(value) * 50)))) / 100 * rng.choice((-1, 1))
        new = value + delta
        if new >= 0 and abs(delta) >= Decimal("0.02"):
            return f"{new:,.2f}" if "," in text else f"{new:.2f}"


def test_every_mutation_is_flagged(seed_tables):
    rng = random.Random(20240601)
    populations = [(tables, money_cells(validate(tables))) for tables in seed_tables]
    flagged = 0
    for _ in range(TRIALS):
        tables, cells = rng.choice(populations)
        target = rng.choice(cells)
        mutated = with_cell(tables, target.table, target.cell, _mutate(rng, target.text))
        result = validate(mutated)
        flagged += blamed(result.findings, target.table, target.cell)
    print(f"mutation: {flagged}/{TRIALS} flagged with the changed cell blamed")
    assert flagged == TRIALS


def test_every_money_cell_is_covered_by_an_identity(seed_tables):
    for tables in seed_tables:
        result = validate(tables)
        covered = {(a.table, a.cell) for o in result.outcomes for a in o.equation.terms()}
        cells = money_cells(result)
        missing = [(a.table, a.cell, a.header) for a in cells if (a.table, a.cell) not in covered]
        assert missing == []


_CONFUSIONS = (("1", "7"), ("7", "1"), ("0", "8"), ("8", "0"), ("3", "8"), ("8", "3"), ("5", "6"), ("6", "5"))


def confuse(rng: random.Random, text: str) -> str | None:
    kind = rng.choice(("point", "swap", "lead", "comma"))
    if kind == "point" and "." in text:
        return text.replace(".", "", 1)
    if kind == "lead" and len(text) > 1:
        return text[1:]
    if kind == "comma":
        return text.replace(",", ".") if "," in text else text.replace(".", ",")
    positions = [(i, b) for i, ch in enumerate(text) for a, b in _CONFUSIONS if ch == a]
    if not positions:
        return None
    i, b = rng.choice(positions)
    return text[:i] + b + text[i + 1 :]


def test_repair_restores_single_confusions(seed_tables):
    rng = random.Random(7)
    populations = [(tables, money_cells(validate(tables))) for tables in seed_tables]
    restored = wrong = high_touched = trials = 0
    source = Source(filename="seed.txt", sha256="0" * 64, pages=1)
    while trials < TRIALS:
        tables, cells = rng.choice(populations)
        target = rng.choice(cells)
        damaged = confuse(rng, target.text)
        if damaged is None or parse_amount(damaged).value == parse_amount(target.text).value:
            continue
        trials += 1
        broken = with_cell(tables, target.table, target.cell, damaged, confidence=0.4)
        out = enrich(Extraction(source=source, tables=broken), policy=RepairPolicy.APPLY)
        before = {(t.id, c.row, c.col): c.text for t in broken for c in t.cells}
        after = {(t.id, c.row, c.col): c.text for t in out.tables for c in t.cells}
        changed = [k for k in after if after[k] != before.get(k)]
        key = (target.table, *target.cell)
        high_touched += sum(1 for k in changed if k != key)
        if key in changed:
            if parse_amount(after[key]).value == parse_amount(target.text).value:
                restored += 1
            else:
                wrong += 1
    print(
        f"repair: restored {restored}/{TRIALS}, wrong {wrong}, high-confidence cells changed {high_touched}"
    )
    assert wrong == 0 and high_touched == 0
    assert restored >= 0.9 * TRIALS
