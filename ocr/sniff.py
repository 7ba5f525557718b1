"""Decide what a file is from its first bytes, never from its name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ocr.errors import InputError, UnsupportedFormatError

FileKind = Literal["pdf", "png", "jpeg", "tiff"]

# The PDF header may legally follow a little junk (some producers prepend bytes);
# readers accept it within the first kilobyte.
_PDF_SEARCH_BYTES = 1024
_IMAGE_MAGIC: tuple[tuple[bytes, FileKind], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def sniff_bytes(head: bytes) -> FileKind | None:
    """Kind of a file from its leading bytes, or None if it is none we read."""
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head[:_PDF_SEARCH_BYTES]:
        return "pdf"
    return None


def sniff_file(path: Path) -> FileKind:
    """Kind of the file at ``path``; raises a typed error if unreadable or unsupported."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_PDF_SEARCH_BYTES)
    except FileNotFoundError as exc:
        raise InputError(f"file not found: {path}", detail={"path": str(path)}) from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", detail={"path": str(path)}) from exc
    if not head:
        raise UnsupportedFormatError("file is empty", detail={"path": str(path)})
    kind = sniff_bytes(head)
    if kind is None:
        raise UnsupportedFormatError(
            "not a PDF, PNG, JPEG or TIFF file (checked by content)", detail={"path": str(path)}
        )
    return kind
