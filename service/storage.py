"""Where original uploads live. Small interface, one local implementation under DATA_DIR/files.

Uploads are first written to a temporary file in the store's own directory (same filesystem), then
adopted under their key with an atomic rename, so a half-written upload is never visible.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,250}$")


class Storage(Protocol):
    def temp_path(self) -> Path:
        """A fresh path for an upload in progress (adopt or delete it afterwards)."""

    def adopt(self, temp: Path, key: str) -> None:
        """Move a finished temporary file under ``key``."""

    def put(self, key: str, chunks: Iterable[bytes]) -> Path:
        """Write a stream of chunks under ``key``; return the local path."""

    def open(self, key: str) -> BinaryIO: ...

    def local_path(self, key: str) -> Path:
        """A path on this machine the OCR can read (the file itself for local storage)."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def check(self) -> None:
        """Raise OSError unless the store is usable (readiness probe)."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def temp_path(self) -> Path:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
        os.close(fd)
        return Path(name)

    def adopt(self, temp: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(temp).replace(target)

    def put(self, key: str, chunks: Iterable[bytes]) -> Path:
        temp = self.temp_path()
        try:
            with temp.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            self.adopt(temp, key)
        finally:
            temp.unlink(missing_ok=True)
        return self._path(key)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check(self) -> None:
        probe = self._tmp / ".probe"
        probe.write_bytes(b"ok")
        probe.unlink()
