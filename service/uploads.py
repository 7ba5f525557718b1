"""Receive a multipart upload as a stream: chunks go to a temporary file while being hashed and
counted, and the request is cut off with 413 the moment the limit is passed (nothing is buffered
whole in memory). The stored type is decided by magic bytes, never by the client's claim."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from ocr.sniff import FileKind, sniff_bytes
from service.errors import ErrorCode, ServiceError
from service.storage import Storage

FILE_FIELD = "file"
MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16  # form fields besides the file (only callback_url is used); bounds the parser's memory
MAX_BOUNDARY = 200  # RFC 2046 allows 70; the parser refuses more than 256 with an untyped error
MULTIPART_ENVELOPE_BYTES = 64 * 1024  # boundaries, part headers and small fields around the file
_SNIFF_BYTES = 1024
_UNSAFE_FILENAME_RE = re.compile(r"[\x00-\x1f\x7f/\\]")
# Unicode categories never kept in a stored file name: controls (Cc), format characters such as the
# right-to-left override that makes "gpj.pdf" display as "fdp.jpg" (Cf), and unassigned/private (Cn, Co).
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs"}

CONTENT_TYPES: dict[FileKind, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}


def sniff_content_type(head: bytes) -> str | None:
    """MIME type decided by the OCR core's content sniffing (never the file name); None if unsupported."""
    kind = sniff_bytes(head)
    return CONTENT_TYPES[kind] if kind else None


@dataclass
class ReceivedUpload:
    temp_path: Path
    filename: str
    size: int
    sha256: str
    content_type: str
    fields: dict[str, str] = field(default_factory=dict)


class _PartState:
    def __init__(self) -> None:
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.name: str | None = None
        self.filename: str | None = None
        self.buffer = bytearray()


class _StreamingForm:
    """Callbacks for python-multipart's low-level parser: the file part streams to ``out``."""

    def __init__(self, out: BinaryIO, max_bytes: int) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.file_seen = False
        self.filename = "upload"
        self.fields: dict[str, str] = {}
        self.part = _PartState()
        self.parts = 0
        self.ended = False  # the closing boundary was seen

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self.part.header_name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.part.header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_FIELDS + 1:
            raise ServiceError(ErrorCode.payload_too_large,
                               f"at most {MAX_FIELDS} form fields besides 'file'",
                               detail={"limit": MAX_FIELDS})
        self.part = _PartState()

    def _end(self) -> None:
        self.ended = True

    def _header_end(self) -> None:
        self.part.headers[self.part.header_name.decode("latin-1").lower()] = bytes(self.part.header_value)
        self.part.header_name.clear()
        self.part.header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace") or None
        raw_filename = options.get(b"filename")
        self.part.filename = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        if self.part.name == FILE_FIELD:
            if self.file_seen:
                raise _invalid("send exactly one 'file' part")
            self.file_seen = True
            self.filename = clean_filename(self.part.filename)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.name != FILE_FIELD:
            self.part.buffer.extend(chunk)
            if len(self.part.buffer) > MAX_FIELD_BYTES:
                raise ServiceError(ErrorCode.payload_too_large, f"form field {self.part.name!r} is too long",
                                   detail={"limit": MAX_FIELD_BYTES})
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if len(self.head) < _SNIFF_BYTES:
            self.head.extend(chunk[: _SNIFF_BYTES - len(self.head)])
        self.digest.update(chunk)
        self.out.write(chunk)

    def _part_end(self) -> None:
        if self.part.name and self.part.name != FILE_FIELD:
            self.fields[self.part.name] = self.part.buffer.decode("utf-8", "replace")


def too_large(limit: int) -> ServiceError:
    return ServiceError(ErrorCode.payload_too_large, f"upload exceeds the limit of {limit} bytes",
                        detail={"limit": limit})


def _invalid(message: str, field_name: str = FILE_FIELD) -> ServiceError:
    return ServiceError(ErrorCode.validation_error, message,
                        detail=[{"loc": ["body", field_name], "msg": message, "type": "value_error"}])


def clean_filename(raw: str | None) -> str:
    name = _UNSAFE_FILENAME_RE.sub("_", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES).strip()
    return name[:255] or "upload"


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse at once when Content-Length already says the body is too big (no byte is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_ENVELOPE_BYTES:
        raise too_large(limit)


def _boundary(request: Request) -> bytes:
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise ServiceError(ErrorCode.unsupported_media_type,
                           "send the document as multipart/form-data (field 'file')", status=415)
    if len(boundary) > MAX_BOUNDARY:
        raise ServiceError(ErrorCode.bad_request, f"multipart boundary longer than {MAX_BOUNDARY} characters",
                           detail={"limit": MAX_BOUNDARY})
    return boundary


async def receive_upload(request: Request, storage: Storage, max_bytes: int) -> ReceivedUpload:
    """Stream the request's multipart body to a temp file in ``storage``; the caller adopts or deletes it."""
    check_declared_length(request, max_bytes)
    boundary = _boundary(request)
    body_limit = max_bytes + MULTIPART_ENVELOPE_BYTES  # counted on the stream: chunked bodies declare nothing
    temp = storage.temp_path()
    try:
        with temp.open("wb") as out:
            form = _StreamingForm(out, max_bytes)
            parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
            received = 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > body_limit:
                    raise too_large(max_bytes)
                parser.write(chunk)
            parser.finalize()
        if not form.ended:
            raise ServiceError(ErrorCode.bad_request,
                               "multipart body ended before its closing boundary (truncated)")
        return _finish(temp, form)
    except (MultipartParseError, FormParserError) as exc:
        temp.unlink(missing_ok=True)
        raise ServiceError(ErrorCode.bad_request, f"malformed multipart body: {exc}") from exc
    except ClientDisconnect as exc:
        temp.unlink(missing_ok=True)
        raise ServiceError(ErrorCode.bad_request, "client disconnected during upload") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _finish(temp: Path, form: _StreamingForm) -> ReceivedUpload:
    if not form.file_seen:
        raise _invalid("the multipart field 'file' is required")
    if form.size == 0:
        raise ServiceError(ErrorCode.document_empty, "the uploaded file is empty")
    content_type = sniff_content_type(bytes(form.head))
    if content_type is None:
        raise ServiceError(ErrorCode.unsupported_format, "only PDF, PNG, JPEG and TIFF files are accepted",
                           detail={"filename": form.filename})
    return ReceivedUpload(temp, form.filename, form.size, form.digest.hexdigest(), content_type, form.fields)
