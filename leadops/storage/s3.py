"""The lake on S3 or any S3-compatible endpoint (MinIO, moto, Ceph).

boto3 is imported and its client built on first use only, so the CLI and the
local lake never pay for it. Credentials come from the standard AWS chain
(environment, profile, instance role); LeadOps never stores or logs them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, BinaryIO

from leadops.errors import one_line
from leadops.storage.lake import Lake, StorageError, safe_key


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (``bucket``, ``some/prefix``)."""
    if not uri.startswith("s3://"):
        raise StorageError(f"{uri!r}: not an s3:// URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise StorageError(f"{uri!r}: no bucket named")
    return bucket, prefix.strip("/")


class S3Lake(Lake):
    """Files as objects under a prefix; a PUT is atomic, so readers never see a part."""

    def __init__(self, root: str, endpoint_url: str | None = None) -> None:
        self.root = root.rstrip("/")
        self.bucket, self.prefix = split_s3_uri(self.root)
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Transient 5xx / throttling / connection errors are retried with
            # exponential backoff by botocore's standard retry mode: sleeps of up to
            # 1, 2, 4, 8 s (jittered). 5 attempts ride out a few seconds of 503s or
            # refused connections, yet a lasting failure surfaces within ~15 s of
            # backoff per call; 8 attempts allowed up to ~70 s per call, and a failed
            # ingest makes several calls while it undoes its writes
            # (tests/integration/test_s3_faults.py).
            config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5)
            self._client = boto3.client("s3", endpoint_url=self.endpoint_url, config=config)
        return self._client

    def _key(self, key: str) -> str:
        key = safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error(key, exc) from exc

    def list(self, prefix: str = "") -> list[str]:
        full = self._key(prefix) if prefix else self.prefix
        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(item["Key"][strip:] for item in page.get("Contents", []))
        except Exception as exc:
            raise self._error(prefix or "/", exc) from exc
        return sorted(keys)

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as stream:
            return stream.read()

    def open_read(self, key: str) -> BinaryIO:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except Exception as exc:
            raise self._error(key, exc) from exc
        return io.BufferedReader(_StreamingBodyIO(body), buffer_size=1 << 20)

    def write_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except Exception as exc:
            raise self._error(key, exc) from exc

    def put_file(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._key(key))  # multipart past 8 MB
        except Exception as exc:
            raise self._error(key, exc) from exc

    def try_create(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            # S3 conditional writes: the PUT fails with 412 when the key exists.
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return False
            raise self._error(key, exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:  # e.g. releasing a lock while S3 refuses: still one line
            raise self._error(key, exc) from exc

    @property
    def storage_options(self) -> dict[str, str]:
        # No credentials here: delta-rs reads the same AWS environment as boto3.
        options = {"AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
        if self.endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.endpoint_url
            if self.endpoint_url.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        # LeadOps serialises writers of one table itself (one flow run per table
        # at a time), so delta-rs's DynamoDB lock is not required.
        options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
        # delta-rs (object_store) retries 5xx and connection errors itself, by
        # default up to 10 times within 180 s with backoff capped at 15 s: a dead
        # endpoint held a table read for minutes. Keep the 10 retries (they ride out
        # a burst of 503s or a short refusal) but stop retrying after 20 s, with
        # backoff capped at 5 s, so a lasting failure surfaces in about half a minute.
        options["max_retries"] = "10"
        options["retry_timeout"] = "20s"
        options["backoff_config.max_backoff"] = "5s"
        return options

    def _error(self, key: str, exc: Exception) -> StorageError:
        return StorageError(f"s3://{self.bucket}/{self._key(key)}: {one_line(exc)}")


class _StreamingBodyIO(io.RawIOBase):
    """Adapts botocore's StreamingBody to a raw stream so it can be buffered."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()
