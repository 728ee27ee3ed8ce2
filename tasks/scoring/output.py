"""Where a batch's scores go, written so a reader never sees half a file.

Rows stream into a local temporary file (Parquet through a ParquetWriter, or CSV
through pyarrow's CSVWriter), one chunk at a time, so memory does not grow with
the batch. Only a finished file is published: a rename in the target's own
folder for a local path, a managed (multipart) upload for ``s3://``, whose object
appears only when the upload completes.

A schema whose metadata names a ``leadops.sort_by`` column (the scores file's) is
sorted by it, highest first, just before publishing: the streamed file is read back
once, so that step holds the output's columns (not the input's) in memory. A CSV
cannot carry metadata, so its column meanings go to a ``<file>.about.txt`` beside it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from leadops.errors import LeadOpsError, one_line
from leadops.storage.delivery import TOKEN_METADATA, new_token

log = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")
SORT_KEY, ABOUT_KEY, COLUMNS_KEY = b"leadops.sort_by", b"leadops.about", b"leadops.columns"
SIDECAR_SUFFIX = ".about.txt"


class OutputError(LeadOpsError):
    """The scores could not be written; the message names the target."""


def resolve_target(out: str | None, default_uri: str, batch_id: str, output_format: str) -> str:
    """The file the scores go to: ``out`` (a file, a folder or s3:// URI) or the default.

    A folder (an existing directory, or a name ending in ``/``) gets ``<batch_id>.<format>``.

    Raises:
        OutputError: ``out`` names a local folder that does not exist (nothing is created).
    """
    if output_format not in FORMATS:
        raise OutputError(f"output format {output_format!r}: choose one of {', '.join(FORMATS)}")
    if out is None:
        return default_uri
    name = f"{batch_id}.{output_format}"
    if out.startswith("s3://"):
        return out + name if out.endswith("/") else out
    folder = Path(out) if out.endswith(("/", os.sep)) or Path(out).is_dir() else Path(out).parent
    if not folder.is_dir():
        raise OutputError(f"--out {out}: folder {folder} does not exist")
    return str(folder / name) if folder == Path(out) else str(Path(out))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class ScoresWriter:
    """Streams score tables into one file and publishes it atomically on ``commit()``."""

    def __init__(
        self,
        target: str,
        output_format: str,
        schema: pa.Schema,
        endpoint_url: str | None = None,
        delivery_token: str | None = None,
    ) -> None:
        if output_format not in FORMATS:
            raise OutputError(
                f"output format {output_format!r}: choose one of {', '.join(FORMATS)}"
            )
        self.target = target
        self.schema = schema
        self.rows = 0
        self._format = output_format
        self._endpoint_url = endpoint_url
        # On S3 the uploaded object carries the run's token: how a journal recognises
        # that this run's output was delivered (leadops.storage.delivery).
        self.delivery_token = delivery_token or new_token()
        self._tmp = self._temp_path()
        self._writer = self._open_writer()

    def _temp_path(self) -> Path:
        # A local target's temp file sits beside it, so publishing is a same-folder rename.
        folder = None
        if not self.target.startswith("s3://"):
            folder = Path(self.target).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"output {self.target}: cannot create folder ({one_line(exc)})"
                ) from exc
        fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-scores-", suffix=f".{self._format}")
        os.close(fd)
        return Path(name)

    def _open_writer(self) -> Any:
        if self._format == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self._tmp, self.schema, compression="zstd")
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(self._tmp, self.schema)

    @property
    def pending_file(self) -> Path:
        """The local file ``commit()`` publishes (a same-folder rename for a local target)."""
        return self._tmp

    def write(self, table: pa.Table) -> None:
        """Append one chunk of rows (same schema as the writer's)."""
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows += table.num_rows

    def commit(self) -> str:
        """Close the file and publish it at the target; returns the target."""
        self._writer.close()
        try:
            self._sort()
            if self.target.startswith("s3://"):
                self._upload()
            else:
                # mkstemp makes the file 0600; scores are for people, so the umask decides.
                os.chmod(self._tmp, 0o666 & ~_umask())
                os.replace(self._tmp, self.target)
            self._write_sidecar()
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"output {self.target}: write failed ({one_line(exc)})") from exc
        finally:
            self._tmp.unlink(missing_ok=True)
        return self.target

    def _sort(self) -> None:
        """Rewrite the finished temp file sorted by the schema's sort column, highest first
        (ties by the first column).

        The sorted bytes are copied into the same temp file (same inode): the delivery
        record (``leadops.storage.delivery.local``) recognises the published file by its inode. A
        kill mid-copy leaves only an unpublished temp file: publishing is the rename after.
        """
        column = (self.schema.metadata or {}).get(SORT_KEY)
        if not column or self.rows == 0:
            return
        keys = [(column.decode(), "descending"), (self.schema.names[0], "ascending")]
        table = self._read_back().sort_by(keys)
        sorted_tmp = self._tmp.with_name(self._tmp.name + ".sorted")
        try:
            if self._format == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(table, sorted_tmp, compression="zstd")
            else:
                import pyarrow.csv as pacsv

                pacsv.write_csv(table, sorted_tmp)
            shutil.copyfile(sorted_tmp, self._tmp)
        finally:
            sorted_tmp.unlink(missing_ok=True)

    def _read_back(self) -> pa.Table:
        if self._format == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(self._tmp, schema=self.schema)
        import pyarrow.csv as pacsv

        types = pacsv.ConvertOptions(column_types=self.schema, strings_can_be_null=True)
        return pacsv.read_csv(self._tmp, convert_options=types).cast(self.schema)

    def _write_sidecar(self) -> None:
        """CSV only: what the columns mean, in a text file beside the scores."""
        about = sidecar_text(self.schema)
        if self._format != "csv" or about is None:
            return
        target = self.target + SIDECAR_SUFFIX
        if target.startswith("s3://"):
            from leadops.storage.s3 import S3Lake, split_s3_uri

            bucket, key = split_s3_uri(target)
            client = S3Lake(f"s3://{bucket}", endpoint_url=self._endpoint_url).client
            client.put_object(Bucket=bucket, Key=key, Body=about.encode())
        else:
            Path(target).write_text(about, encoding="utf-8")

    def _upload(self) -> None:
        from leadops.storage.s3 import S3Lake, split_s3_uri

        bucket, key = split_s3_uri(self.target)
        if not key:
            raise OutputError(f"output {self.target}: no object key after the bucket")
        client = S3Lake(f"s3://{bucket}", endpoint_url=self._endpoint_url).client
        try:
            client.upload_file(
                str(self._tmp),
                bucket,
                key,
                ExtraArgs={"Metadata": {TOKEN_METADATA: self.delivery_token}},
            )
        except Exception as exc:  # boto3 raises several unrelated types
            raise OutputError(f"output {self.target}: upload failed ({one_line(exc)})") from exc

    def abort(self) -> None:
        """Drop the partial file; the target is left as it was."""
        try:
            self._writer.close()
        except Exception:  # closing a broken writer must not hide the real error
            log.debug("closing an aborted scores writer failed", exc_info=True)
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ScoresWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()


def sidecar_text(schema: pa.Schema) -> str | None:
    """The schema's column meanings as plain text, or None when it carries none."""
    metadata = schema.metadata or {}
    if COLUMNS_KEY not in metadata:
        return None
    lines = [metadata.get(ABOUT_KEY, b"").decode(), "", "Columns:"]
    lines += [f"  {name}: {meaning}" for name, meaning in json.loads(metadata[COLUMNS_KEY]).items()]
    return "\n".join(lines) + "\n"
