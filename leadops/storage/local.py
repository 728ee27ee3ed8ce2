"""The local-folder lake and ``open_lake``, which picks the backend from the root.

The interface, ``Lake``, lives in ``leadops.storage.lake``; the S3 backend in
``leadops.storage.s3``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from leadops.storage.lake import Lake, StorageError, safe_key

if TYPE_CHECKING:
    from leadops.settings import Settings


class LocalLake(Lake):
    """A lake in a local folder; atomic writes by temp file + rename."""

    def __init__(self, root: str | Path) -> None:
        self.path = Path(root).resolve()
        self.root = str(self.path)

    def _file(self, key: str) -> Path:
        return self.path / safe_key(key)

    def exists(self, key: str) -> bool:
        return self._file(key).exists()

    def list(self, prefix: str = "") -> list[str]:
        base = self.path / safe_key(prefix) if prefix else self.path
        if base.is_file():
            return [safe_key(prefix)]
        if not base.exists():
            return []
        return sorted(
            str(p.relative_to(self.path).as_posix())
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"lake key {key!r}: not found under {self.root}") from None

    def open_read(self, key: str) -> BinaryIO:
        try:
            return self._file(key).open("rb")
        except FileNotFoundError:
            raise StorageError(f"lake key {key!r}: not found under {self.root}") from None

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same directory as the target so os.replace is an atomic rename.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Via a temp name in the target's folder: a copy across file systems is not atomic.
        tmp = target.with_name(f".tmp-{target.name}")
        shutil.move(path, tmp)
        os.replace(tmp, target)

    def try_create(self, key: str, data: bytes) -> bool:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return True

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    @property
    def storage_options(self) -> dict[str, str]:
        return {}


def open_lake(settings: Settings, root: str | None = None) -> Lake:
    """The lake named by the settings (or ``root``): local folder or S3 prefix."""
    root = root or settings.lake_uri
    if root.startswith("s3://"):
        from leadops.storage.s3 import S3Lake

        return S3Lake(root, endpoint_url=settings.s3_endpoint_url)
    return LocalLake(root)
