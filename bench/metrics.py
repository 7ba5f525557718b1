"""Scoring predicted tables against truth, independent of grid indices.

Tables are matched by bbox IoU on the page; cells by IoU of their boxes taken relative to their
own table's box (so a constant offset or scale between the two page frames does not matter).
Texts compare after NFKC and whitespace removal. cTDaR pages are scored by cell adjacency
relations (left-right and top-bottom neighbours among non-empty cells), as in ICDAR 2019 cTDaR.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from ocr.contract import Table

FloatBox = tuple[float, float, float, float]
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?$")


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def is_numeric(text: str) -> bool:
    """Amounts, codes and line numbers: digits with optional sign, separators, decimals, percent."""
    folded = normalise(text)
    return bool(folded) and any(ch.isdigit() for ch in folded) and bool(_NUMBER.match(folded))


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def cer(predicted: str, truth: str) -> float:
    """Character error rate of one string; an empty truth scores 0 only for an empty prediction."""
    p, t = normalise(predicted), normalise(truth)
    if not t:
        return 0.0 if not p else 1.0
    return edit_distance(p, t) / len(t)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def scale_box(box: Sequence[float], factor: float) -> FloatBox:
    return (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)


def relative_box(box: Sequence[float], frame: Sequence[float]) -> FloatBox:
    width = max(1e-6, frame[2] - frame[0])
    height = max(1e-6, frame[3] - frame[1])
    return (
        (box[0] - frame[0]) / width,
        (box[1] - frame[1]) / height,
        (box[2] - frame[0]) / width,
        (box[3] - frame[1]) / height,
    )


def greedy_match(
    truth: Sequence[Sequence[float]], predicted: Sequence[Sequence[float]], threshold: float
) -> list[tuple[int, int]]:
    """One-to-one pairs (truth index, predicted index), best IoU first, IoU >= threshold."""
    candidates = sorted(
        ((iou(t, p), ti, pi) for ti, t in enumerate(truth) for pi, p in enumerate(predicted)), reverse=True
    )
    used_t: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for score, ti, pi in candidates:
        if score < threshold:
            break
        if ti in used_t or pi in used_p:
            continue
        used_t.add(ti)
        used_p.add(pi)
        pairs.append((ti, pi))
    return sorted(pairs)


def match_tables(
    truth: Sequence[Table], predicted: Sequence[Table], scale: float = 1.0, threshold: float = 0.5
) -> list[tuple[int, int]]:
    return greedy_match([t.bbox for t in truth], [scale_box(p.bbox, scale) for p in predicted], threshold)


def match_cells(truth: Table, predicted: Table, threshold: float = 0.5) -> list[tuple[int, int]]:
    t_boxes = [relative_box(c.bbox, truth.bbox) for c in truth.cells]
    p_boxes = [relative_box(c.bbox, predicted.bbox) for c in predicted.cells]
    return greedy_match(t_boxes, p_boxes, threshold)


def same_structure(truth: Table, predicted: Table) -> bool:
    """Equal grid: same row/col counts and the same set of (row, col, row_span, col_span)."""

    def shape(table: Table) -> set[tuple[int, int, int, int]]:
        return {(c.row, c.col, c.row_span, c.col_span) for c in table.cells}

    return (truth.n_rows, truth.n_cols) == (predicted.n_rows, predicted.n_cols) and shape(truth) == shape(
        predicted
    )


@dataclass
class TableScore:
    """Counts over truth cells; add scores together with ``+``."""

    tables_truth: int = 0
    tables_predicted: int = 0
    tables_found: int = 0
    structure_exact: int = 0
    cells_truth: int = 0
    cells_matched: int = 0
    numeric_cells: int = 0
    numeric_exact: int = 0
    text_cells: int = 0
    text_exact: int = 0
    text_edits: int = 0
    text_chars: int = 0
    blank_cells: int = 0
    blank_filled: int = 0
    corrections_right: int = 0  # vocabulary corrections that made a misread cell right
    corrections_wrong: int = 0  # ... that left it wrong or changed a right reading

    def __add__(self, other: TableScore) -> TableScore:
        return TableScore(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def summary(self) -> dict[str, float | int | None]:
        def pct(part: int, whole: int) -> float | None:
            return round(100.0 * part / whole, 1) if whole else None

        return {
            "tables_truth": self.tables_truth,
            "tables_predicted": self.tables_predicted,
            "tables_found_pct": pct(self.tables_found, self.tables_truth),
            "structure_exact_pct": pct(self.structure_exact, self.tables_truth),
            "cells_matched_pct": pct(self.cells_matched, self.cells_truth),
            "numeric_exact_pct": pct(self.numeric_exact, self.numeric_cells),
            "text_exact_pct": pct(self.text_exact, self.text_cells),
            "cer": round(self.text_edits / self.text_chars, 4) if self.text_chars else None,
            "blank_cells": self.blank_cells,
            "blank_filled": self.blank_filled,
            "blank_filled_pct": pct(self.blank_filled, self.blank_cells),
            "corrections_right": self.corrections_right,
            "corrections_wrong": self.corrections_wrong,
        }


def score_table(truth: Table, predicted: Table | None) -> TableScore:
    """Score one truth table against its matched prediction (None = table not found)."""
    score = TableScore(tables_truth=1, tables_found=int(predicted is not None), cells_truth=len(truth.cells))
    if predicted is not None:
        score.structure_exact = int(same_structure(truth, predicted))
    pairs = dict(match_cells(truth, predicted)) if predicted is not None else {}
    score.cells_matched = len(pairs)
    for index, cell in enumerate(truth.cells):
        read = predicted.cells[pairs[index]] if predicted is not None and index in pairs else None
        guess = read.text if read is not None else ""
        expected = normalise(cell.text)
        if read is not None and read.read_as is not None:
            right = normalise(guess) == expected
            score.corrections_right += int(right)
            score.corrections_wrong += int(not right)
        if not expected:
            score.blank_cells += 1
            score.blank_filled += int(bool(normalise(guess)))
        elif is_numeric(expected):
            score.numeric_cells += 1
            score.numeric_exact += int(normalise(guess) == expected)
        else:
            score.text_cells += 1
            score.text_exact += int(normalise(guess) == expected)
        if expected:
            score.text_edits += edit_distance(normalise(guess), expected)
            score.text_chars += len(expected)
    return score


def score_page(truth: Sequence[Table], predicted: Sequence[Table], scale: float) -> TableScore:
    """All truth tables of a page; predicted boxes are multiplied by ``scale`` into the truth frame."""
    pairs = dict(match_tables(truth, predicted, scale))
    total = TableScore(tables_predicted=len(predicted))
    for index, table in enumerate(truth):
        total = total + score_table(table, predicted[pairs[index]] if index in pairs else None)
    return total


# --- cell adjacency (cTDaR) -------------------------------------------------------------------

Relation = tuple[int, int, str]  # (cell a, cell b, "h" | "v"): b is right of / below a


@dataclass(frozen=True)
class AdjacencyScore:
    truth: int
    predicted: int
    truth_found: int
    predicted_correct: int

    @property
    def precision(self) -> float:
        return self.predicted_correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.truth_found / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: AdjacencyScore) -> AdjacencyScore:
        return AdjacencyScore(
            self.truth + other.truth,
            self.predicted + other.predicted,
            self.truth_found + other.truth_found,
            self.predicted_correct + other.predicted_correct,
        )


def grid_relations(table: Table, keep: Iterable[int]) -> set[Relation]:
    """Nearest right and lower neighbours among the kept cells of a predicted grid."""
    kept = list(keep)
    cells = table.cells
    relations: set[Relation] = set()
    for a in kept:
        ca = cells[a]
        right = [
            b
            for b in kept
            if cells[b].col >= ca.col + ca.col_span
            and cells[b].row < ca.row + ca.row_span
            and ca.row < cells[b].row + cells[b].row_span
        ]
        below = [
            b
            for b in kept
            if cells[b].row >= ca.row + ca.row_span
            and cells[b].col < ca.col + ca.col_span
            and ca.col < cells[b].col + cells[b].col_span
        ]
        if right:
            nearest = min(cells[b].col for b in right)
            relations.update((a, b, "h") for b in right if cells[b].col == nearest)
        if below:
            nearest = min(cells[b].row for b in below)
            relations.update((a, b, "v") for b in below if cells[b].row == nearest)
    return relations


def _contains_centre(outer: Sequence[float], inner: Sequence[float]) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


def adjacency_score(
    truth_boxes: dict[int, FloatBox], truth_relations: set[Relation], predicted: Sequence[Table], scale: float
) -> AdjacencyScore:
    """Truth cells (text boxes) are assigned to the predicted cell holding their centre."""
    owner: dict[int, tuple[int, int]] = {}
    for cell_id, box in truth_boxes.items():
        for t_index, table in enumerate(predicted):
            hit = next(
                (
                    c_index
                    for c_index, cell in enumerate(table.cells)
                    if _contains_centre(scale_box(cell.bbox, scale), box)
                ),
                None,
            )
            if hit is not None:
                owner[cell_id] = (t_index, hit)
                break
    predicted_relations: set[tuple[int, int, int, str]] = set()
    for t_index, table in enumerate(predicted):
        kept = {c for (t, c) in owner.values() if t == t_index}
        predicted_relations.update((t_index, a, b, d) for a, b, d in grid_relations(table, kept))
    mapped_truth = set()
    for a, b, direction in truth_relations:
        if a in owner and b in owner and owner[a][0] == owner[b][0]:
            mapped_truth.add((owner[a][0], owner[a][1], owner[b][1], direction))
    found = sum(
        1
        for a, b, d in truth_relations
        if a in owner and b in owner and (owner[a][0], owner[a][1], owner[b][1], d) in predicted_relations
    )
    correct = len(predicted_relations & mapped_truth)
    return AdjacencyScore(len(truth_relations), len(predicted_relations), found, correct)
