"""Vocabulary correction of label cells: one misread character in a known term is put right.

The recogniser confuses a few similar glyphs (生/牛, 入/人, 量/致) that no amount of image cleaning
removes. Table labels in these reports are mostly fixed terms (classification names, template
headings), so a label that is one character away from exactly one known term, and is not itself
a known term, is that term. The OCR core stays free of any domain: callers pass the terms.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ocr.contract import UNSURE, Cell

# Ordinals, bracketed codes and numbering in front of a label: 九、 (十一) 1. [2010302]
_PREFIX = re.compile(r"^((?:[(（]?[一二三四五六七八九十]+[)）、.]?)|(?:\[\d+\])|(?:\d+[、.]))*")
# Shorter terms differ from each other in one character too often (收入/支出 pairs aside).
_SHORTEST = 4


@dataclass(frozen=True)
class Lexicon:
    """Known terms, indexed by length with one position masked, for one-substitution lookups."""

    terms: frozenset[str]
    _masked: dict[str, frozenset[str]]

    @classmethod
    def of(cls, terms: Iterable[str]) -> Lexicon:
        kept = frozenset(t for t in (term.strip() for term in terms) if len(t) >= _SHORTEST)
        masked: dict[str, set[str]] = defaultdict(set)
        for term in kept:
            for index in range(len(term)):
                masked[_mask(term, index)].add(term)
        return cls(kept, {key: frozenset(value) for key, value in masked.items()})

    def correct(self, text: str, scores: Sequence[float]) -> str:
        """``text`` with its label put right, or unchanged when no single known term fits.

        ``scores`` holds the recogniser's score for each character of ``text``. Only a character it
        was unsure of (below ``UNSURE``) is changed: on scans nobody here made, labels read right
        with 0.88-1.00 were "corrected" into neighbouring known terms, because no vocabulary has
        every template's wording, while a misread character scores low.
        """
        prefix = _PREFIX.match(text)
        head = prefix.group(0) if prefix else ""
        body = text[len(head):]
        if len(body) < _SHORTEST or body in self.terms or len(scores) != len(text):
            return text
        found = {(term, index) for index in range(len(body))
                 for term in self._masked.get(_mask(body, index), ())}
        if len({term for term, _ in found}) != 1:
            return text  # none, or ambiguous
        term, index = found.pop()
        return head + term if scores[len(head) + index] < UNSURE else text


def _mask(term: str, index: int) -> str:
    return term[:index] + "\0" + term[index + 1:]


def correct_cell(cell: Cell, scores: Sequence[float], lexicon: Lexicon) -> Cell:
    """``cell`` with its label corrected where the recogniser was unsure; the reading kept in ``read_as``."""
    fixed = lexicon.correct(cell.text, scores)
    if fixed == cell.text:
        return cell
    return cell.model_copy(update={"text": fixed, "read_as": cell.text})
