"""Fiscal domain layer: recognise disclosure tables, extract records, check that they add up.

Depends only on ``ocr.contract`` (and ``ocr.lexicon``, which :func:`fiscal.lexicon.fiscal_lexicon`
fills with the vocabulary). Entry points: :func:`enrich` (an Extraction -> a copy with tables
joined, ``records`` and ``findings`` filled), :func:`validate_tables` and
:func:`validate_text_document` (text reports such as the seeds).
"""

from __future__ import annotations

from fiscal.pipeline import TextValidation, enrich, validate_tables, validate_text_document
from fiscal.repair import RepairOptions, RepairPolicy

__all__ = [
    "RepairOptions",
    "RepairPolicy",
    "TextValidation",
    "enrich",
    "validate_tables",
    "validate_text_document",
]
