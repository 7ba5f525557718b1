"""A document fetched from a URL, turned into the same ``ReceivedUpload`` a multipart upload gives,
so ``ingest`` treats both alike (sniffed type, SHA-256 dedupe, one job)."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from service.fetch import FetchLimits, fetch_document
from service.netguard import Resolver
from service.settings import Settings
from service.storage import Storage
from service.uploads import ReceivedUpload, clean_filename, sniff_content_type

log = logging.getLogger(__name__)

_SNIFF_BYTES = 1024


async def download_upload(url: str, storage: Storage, settings: Settings,
                          resolver: Resolver | None) -> ReceivedUpload:
    """Download ``url`` into a temp file of ``storage``; the caller adopts or deletes it.

    Raises the fetch errors (``fetch_refused_address`` 403, ``fetch_too_large`` 413,
    ``fetch_timeout`` 504, ``fetch_failed`` / ``fetch_too_many_redirects`` 502) and, for what
    arrived, ``document_empty`` 422 or ``unsupported_format`` 415.
    """
    from service.errors import ErrorCode, ServiceError

    temp = storage.temp_path()
    try:  # every refused or failed fetch removes its temp file (they used to pile up, empty, for ever)
        result = await fetch_document(url, temp, limits=FetchLimits.from_settings(settings),
                                      resolver=resolver)
        if result.size == 0:
            raise ServiceError(ErrorCode.document_empty, "the fetched document is empty")
        with temp.open("rb") as handle:
            content_type = sniff_content_type(handle.read(_SNIFF_BYTES))
        if content_type is None:
            raise ServiceError(ErrorCode.unsupported_format,
                               "the fetched document is not a PDF, PNG, JPEG or TIFF",
                               detail={"content_type": result.content_type})
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    filename = filename_from_url(result.final_url)
    log.info("document fetched", extra={"size": result.size, "redirects": result.redirects})
    return ReceivedUpload(temp, filename, result.size, result.sha256, content_type)


def filename_from_url(url: str) -> str:
    """The last path segment of the URL (decoded, cleaned), or "download"."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return clean_filename(name) if name else "download"
