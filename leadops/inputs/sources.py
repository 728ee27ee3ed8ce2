"""Where landing files come from (a file, folder, glob or s3:// prefix) and what they are.

A run resolves what SOURCE names once, at its start, and hands the resulting
``SourceFile`` values on: they are plain data (a URI and, for S3, the endpoint),
so they cross task boundaries and flow parameters as they are.

A first streaming pass over each file computes its checksum (the idempotency
key) and sniffs it: binary content, a byte-order mark (UTF-8 or UTF-16), and
whether it is valid UTF-8, so the reader knows the encoding before it parses a
single row. A gzipped export (``leads.csv.gz``) is read decompressed, as a stream,
and fails with one line once it decompresses past ``MAX_DECOMPRESSED_BYTES``.
"""

from __future__ import annotations

import codecs
import fnmatch
import glob
import gzip
import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from leadops.errors import LeadOpsError, one_line

if TYPE_CHECKING:
    from leadops.storage.s3 import S3Lake

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
GZIP = ".gz"
BLOCK = 1 << 20
SNIFF_BYTES = 8192
# A lead export is at most a few GiB of text; a gzip that inflates past this is a wrong
# file or a decompression bomb.
MAX_DECOMPRESSED_BYTES = 16 << 30


class SourceError(LeadOpsError):
    """SOURCE names nothing ingestible; the message names SOURCE and why."""


class DecompressedTooLarge(SourceError):
    """A gzipped file that inflates past MAX_DECOMPRESSED_BYTES."""


class UnreadableSource(SourceError):
    """A file whose bytes cannot be read back (a truncated or corrupt gzip, an I/O error)."""


@dataclass(frozen=True)
class SourceFile:
    """One landing file: a local path or an s3:// URI (reached through ``endpoint_url``)."""

    uri: str
    endpoint_url: str | None = None  # S3-compatible endpoint; None: AWS (or AWS_ENDPOINT_URL)

    @property
    def name(self) -> str:
        return PurePosixPath(self.uri).name

    @property
    def compressed(self) -> bool:
        return PurePosixPath(self.uri).suffix.lower() == GZIP

    @property
    def format(self) -> str | None:
        path = PurePosixPath(self.uri)
        inner = PurePosixPath(path.stem) if self.compressed else path
        return FORMATS.get(inner.suffix.lower())

    def open(self) -> BinaryIO:
        """The file's content: decompressed (and capped) for a ``.gz`` file."""
        stored = self.open_stored()
        if not self.compressed:
            return stored
        return io.BufferedReader(
            _CappedStream(gzip.GzipFile(fileobj=stored), stored, self.name), buffer_size=BLOCK
        )

    def open_stored(self) -> BinaryIO:
        """The bytes as stored (what the checksum covers)."""
        if self.uri.startswith("s3://"):
            from leadops.storage.s3 import split_s3_uri

            bucket, key = split_s3_uri(self.uri)
            return _bucket(bucket, self.endpoint_url).open_read(key)
        return open(self.uri, "rb")


class _CappedStream(io.RawIOBase):
    """A decompressing stream that fails in one line past MAX_DECOMPRESSED_BYTES."""

    def __init__(self, inner: gzip.GzipFile, stored: BinaryIO, name: str) -> None:
        self.inner, self.stored, self.name, self.read_bytes = inner, stored, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self.inner.readinto(buffer)
        self.read_bytes += count
        if self.read_bytes > MAX_DECOMPRESSED_BYTES:
            raise DecompressedTooLarge(
                f"{self.name}: decompresses to more than "
                f"{MAX_DECOMPRESSED_BYTES:,} bytes (limit); not a lead export"
            )
        return count

    def close(self) -> None:
        self.inner.close()
        self.stored.close()
        super().close()


@lru_cache(maxsize=8)
def _cached_bucket(bucket: str, endpoint_url: str | None) -> S3Lake:
    from leadops.storage.s3 import S3Lake

    return S3Lake(f"s3://{bucket}", endpoint_url=endpoint_url)


def _bucket(bucket: str, endpoint_url: str | None) -> S3Lake:
    """One store (one boto3 client) per bucket and endpoint, shared by the files of a run."""
    return _cached_bucket(bucket, endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))


@dataclass(frozen=True)
class Fingerprint:
    """What the first pass learned about a file."""

    checksum: str
    size: int
    head: bytes
    encoding: str = "utf-8"
    note: str = ""

    @property
    def binary(self) -> bool:
        # UTF-16 text is half NUL bytes; its byte-order mark says it is text.
        return b"\x00" in self.head and self.encoding != "utf-16"


def resolve_sources(source: str, s3_endpoint_url: str | None = None) -> list[SourceFile]:
    """The files SOURCE names, sorted, hidden files left out.

    Raises:
        SourceError: SOURCE does not exist or matches no file.
    """
    if source.startswith("s3://"):
        files = _s3_files(source, s3_endpoint_url)
    elif glob.has_magic(source):
        files = [
            SourceFile(str(Path(p).resolve()))
            for p in glob.glob(source, recursive=True)
            if Path(p).is_file()
        ]
    elif Path(source).is_dir():
        files = [SourceFile(str(p.resolve())) for p in Path(source).rglob("*") if p.is_file()]
    elif Path(source).is_file():
        return [SourceFile(str(Path(source).resolve()))]
    else:
        raise SourceError(f"source {source}: no such file or folder")
    files = sorted((f for f in files if not f.name.startswith(".")), key=lambda f: f.uri)
    if not files:
        raise SourceError(f"source {source}: matched no files")
    return files


def _s3_files(source: str, endpoint_url: str | None) -> list[SourceFile]:
    from leadops.storage.s3 import split_s3_uri

    bucket, prefix = split_s3_uri(source)
    store = _bucket(bucket, endpoint_url)
    if glob.has_magic(prefix):
        folder = prefix.split("*")[0].rsplit("/", 1)[0] if "/" in prefix else ""
        keys = [k for k in store.list(folder) if fnmatch.fnmatch(k, prefix)]
    elif prefix and store.exists(prefix):
        keys = [prefix]
    else:
        # "landing/leads" must not match "landing/leads_old/...": list the folder.
        keys = [k for k in store.list(prefix) if not prefix or k.startswith(prefix + "/")]
    return [SourceFile(f"s3://{bucket}/{key}", endpoint_url=endpoint_url) for key in keys]


def fingerprint(source: SourceFile) -> Fingerprint:
    """Checksum and sniff a file in one streaming pass (memory stays one block).

    A gzipped file takes a second pass: the checksum covers the stored bytes, the
    sniffing (and the size cap) the decompressed ones.

    Raises:
        DecompressedTooLarge: a gzipped file inflates past MAX_DECOMPRESSED_BYTES.
        UnreadableSource: one line naming the file and the cause (e.g. a truncated gzip:
            every reader of files, ingest's and score's, gets the same line).
    """
    digest, size = hashlib.sha256(), 0
    sniffer = _Sniffer(text=source.format in ("csv", "jsonl"))
    try:
        with source.open_stored() as stream:
            while block := stream.read(BLOCK):
                digest.update(block)
                size += len(block)
                if not source.compressed:
                    sniffer.feed(block)
        if source.compressed:
            with source.open() as stream:
                while block := stream.read(BLOCK):
                    sniffer.feed(block)
    except (OSError, EOFError) as exc:  # EOFError: a gzip cut short; it must not reach Click
        raise UnreadableSource(f"{source.name}: cannot be read ({one_line(exc)})") from exc
    return Fingerprint(digest.hexdigest(), size, sniffer.head, *sniffer.encoding())


class _Sniffer:
    """The head of a file and the offset of its first byte that is not UTF-8."""

    def __init__(self, text: bool) -> None:
        self.text, self.head, self.size = text, b"", 0
        self.bad_offset: int | None = None
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, block: bytes) -> None:
        self.head = self.head or block[:SNIFF_BYTES]
        if self.text and self.bad_offset is None and not self._utf16:
            try:
                self.decoder.decode(block)
            except UnicodeDecodeError as exc:
                self.bad_offset = self.size + exc.start
        self.size += len(block)

    @property
    def _utf16(self) -> bool:
        return self.head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))

    def encoding(self) -> tuple[str, str]:
        if self.text and self.bad_offset is None and not self._utf16:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad_offset = self.size - 1
        if self._utf16:
            # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
            return "utf-16", ""
        return _encoding(self.head, self.bad_offset)


def _encoding(head: bytes, bad_offset: int | None) -> tuple[str, str]:
    if bad_offset is not None:
        # latin-1 maps every byte to a character, so the file reads without loss
        # of rows; the note tells the user which bytes to look at.
        note = f"not valid UTF-8 (first bad byte at offset {bad_offset}); read as latin-1"
        return "latin-1", note
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", ""
    return "utf-8", ""
