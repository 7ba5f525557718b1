"""Year over year inside a tenant: a report is compared with the same department's report of the
year before, when the tenant has processed it (fiscal.yoy does the comparing)."""

from __future__ import annotations

import logging

from sqlmodel import Session

from fiscal.yoy import compare_years, department_of, year_of
from models import Document
from ocr.contract import Extraction
from service import repo, results

log = logging.getLogger(__name__)

# Earlier reports of the tenant looked at, newest first (each is loaded to read its year and department).
MAX_CANDIDATES = 20


def with_previous_year(session: Session, document: Document, extraction: Extraction) -> Extraction:
    """``extraction`` plus N.PRIOR findings against last year's report of the same department, if any."""
    year, department = year_of(extraction), department_of(extraction)
    if year is None or department is None:
        return extraction
    candidates = repo.succeeded_documents(session, document.tenant_id, exclude=document.id,
                                          limit=MAX_CANDIDATES)
    for other in candidates:
        previous = results.load_extraction(session, other)
        if year_of(previous) == year - 1 and department_of(previous) == department:
            findings, checks = compare_years(extraction, previous)
            log.info("year over year", extra={"previous": other.id, "comparisons": len(checks),
                                              "disagree": len(findings)})
            return extraction.model_copy(update={"findings": [*extraction.findings, *findings]})
    return extraction
