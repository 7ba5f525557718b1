"""Extraction core: scanned PDF/image -> typed table cells (see ocr/pipeline.py, ocr/contract.py)."""

from __future__ import annotations


def contract_schema() -> dict[str, object]:
    """JSON Schema of the extraction contract (``Extraction``)."""
    from ocr.contract import Extraction

    return Extraction.model_json_schema()
