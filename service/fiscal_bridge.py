"""The service's calls into the fiscal layer: results are always recomputed from the tables alone."""

from __future__ import annotations

import fiscal
from ocr.contract import Extraction, Finding, Record, Table


def enrich(extraction: Extraction) -> Extraction:
    """Fill records and findings (``fiscal.enrich``) on a copy without previous records/findings."""
    return fiscal.enrich(extraction.model_copy(update={"records": [], "findings": []}))


def validate_tables(tables: list[Table]) -> tuple[list[Record], list[Finding]]:
    records, findings = fiscal.validate_tables(tables)
    return list(records), list(findings)
