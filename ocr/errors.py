"""Typed failures of the extraction core.

Every error carries a stable machine-readable ``code``; callers (CLI, service)
map codes to exit statuses or HTTP statuses. Messages are for people and may change.
"""

from __future__ import annotations


class FiscalOCRError(Exception):
    """Base of every failure the extraction core reports on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, object] = detail or {}


class InputError(FiscalOCRError):
    """The input itself is unusable (caller's fault)."""

    code = "invalid_input"


class UnsupportedFormatError(InputError):
    code = "unsupported_format"


class EncryptedPDFError(InputError):
    code = "pdf_encrypted"


class CorruptPDFError(InputError):
    code = "pdf_corrupt"


class EmptyDocumentError(InputError):
    code = "document_empty"


class TooManyPagesError(InputError):
    code = "too_many_pages"


class PageTooLargeError(InputError):
    code = "page_too_large"


class InvalidPageRangeError(InputError):
    code = "invalid_page_range"


class ProcessingTimeoutError(FiscalOCRError):
    code = "processing_timeout"


class EngineUnavailableError(FiscalOCRError):
    """An OCR engine or system tool (tesseract, poppler) is missing or broken."""

    code = "engine_unavailable"
