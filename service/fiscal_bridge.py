"""The fiscal layer, imported lazily: the service works (and says clearly what is missing) before
``fiscal.enrich`` / ``fiscal.validate_tables`` exist."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ocr.contract import Extraction, Finding, Record, Table
from service.errors import ServiceError


def _function(name: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module("fiscal")
    except ImportError as exc:
        raise ServiceError("fiscal_unavailable", f"the fiscal layer cannot be imported: {exc}") from exc
    function: Callable[..., Any] | None = getattr(module, name, None)
    if not callable(function):
        raise ServiceError("fiscal_unavailable",
                           f"fiscal.{name} is not available in this build (fiscal layer not installed yet)",
                           detail={"missing": f"fiscal.{name}"})
    return function


def enrich(extraction: Extraction) -> Extraction:
    """Fill records and findings (``fiscal.enrich``) on a copy without previous records/findings."""
    bare = extraction.model_copy(update={"records": [], "findings": []})
    result = _function("enrich")(bare)
    if not isinstance(result, Extraction):
        raise ServiceError("internal_error", "fiscal.enrich did not return an Extraction", status=500)
    return result


def validate_tables(tables: list[Table]) -> tuple[list[Record], list[Finding]]:
    records, findings = _function("validate_tables")(tables)
    return list(records), list(findings)
