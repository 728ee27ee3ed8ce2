"""Has a run's output been delivered? The commit point of a score run, for every kind of target.

A score run appends to the prediction log inside a lake transaction and delivers a
file (or a folder of parts). Delivering is its last act: once the output is out, a
run killed before it removes its journal must be kept, not undone, or the next run
would deliver the same leads again. The journal records, before the output can
appear, a *delivery* saying how to recognise this run's output at its target:

- ``file``: a local file or folder published by a rename: the target has the inode
  of the run's pending file (or staging folder);
- ``s3``: one object uploaded whole, carrying the run's token in its metadata;
- ``s3-parts``: a folder of part objects, each carrying the token, made visible as a
  whole by ``_SUCCESS`` (holding the token), written last. Until then the parts are
  not delivered, and undoing the run deletes them (only those with its token).
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

log = logging.getLogger(__name__)

TOKEN_METADATA = "leadops-delivery"  # S3 user metadata: x-amz-meta-leadops-delivery
SUCCESS = "_SUCCESS"


def new_token() -> str:
    return uuid.uuid4().hex


def local(pending: str | os.PathLike, target: str) -> dict[str, Any]:
    """A local file or folder that becomes ``target`` by renaming ``pending``."""
    stat = os.stat(pending)
    return {"kind": "file", "target": str(target), "inode": stat.st_ino, "device": stat.st_dev}


def s3(target: str, token: str, endpoint_url: str | None, parts: bool = False) -> dict[str, Any]:
    """An S3 object (or, with ``parts``, a folder of parts) written with ``token``."""
    return {
        "kind": "s3-parts" if parts else "s3",
        "target": target,
        "token": token,
        "endpoint_url": endpoint_url,
    }


def is_delivered(delivery: dict[str, Any]) -> bool:
    """Whether the recorded output is out at its target.

    Raises:
        Exception: the target could not be read (S3 still failing after its retries):
            neither answer is safe, so the caller's recovery fails and runs again later.
    """
    kind = delivery.get("kind", "file")
    if kind == "file":
        try:
            stat = os.stat(delivery["target"])
        except FileNotFoundError:
            return False
        return (stat.st_ino, stat.st_dev) == (delivery["inode"], delivery["device"])
    from botocore.exceptions import ClientError

    client, bucket, key = _object(delivery)
    try:
        if kind == "s3":
            head = client.head_object(Bucket=bucket, Key=key)
            return head.get("Metadata", {}).get(TOKEN_METADATA) == delivery["token"]
        body = client.get_object(Bucket=bucket, Key=f"{key}/{SUCCESS}")["Body"].read()
        return body.decode().strip() == delivery["token"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def discard_undelivered(delivery: dict[str, Any]) -> list[str]:
    """Delete the parts an undelivered ``s3-parts`` output left behind; returns their keys.

    Only objects holding the run's token go: another run's output is never touched.
    """
    if delivery.get("kind") != "s3-parts":
        return []
    client, bucket, prefix = _object(delivery)
    removed = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix + "/"
    ):
        for item in page.get("Contents", []):
            head = client.head_object(Bucket=bucket, Key=item["Key"])
            if head.get("Metadata", {}).get(TOKEN_METADATA) == delivery["token"]:
                client.delete_object(Bucket=bucket, Key=item["Key"])
                removed.append(item["Key"])
    return removed


def mark_parts_delivered(target: str, token: str, endpoint_url: str | None) -> None:
    """The commit point of an ``s3-parts`` output: ``_SUCCESS`` holding the token."""
    client, bucket, key = _object(s3(target, token, endpoint_url, parts=True))
    client.put_object(
        Bucket=bucket, Key=f"{key}/{SUCCESS}", Body=token.encode(), Metadata={TOKEN_METADATA: token}
    )


def _object(delivery: dict[str, Any]) -> tuple[Any, str, str]:
    from leadops.storage.s3 import S3Lake, split_s3_uri

    bucket, key = split_s3_uri(delivery["target"])
    return S3Lake(f"s3://{bucket}", endpoint_url=delivery.get("endpoint_url")).client, bucket, key
