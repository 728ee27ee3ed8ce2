"""Which failures are worth a retry: only the ones that may pass on their own."""

from __future__ import annotations

import pytest

from leadops.errors import LeadOpsError, is_transient
from leadops.inputs.sources import SourceError
from leadops.models.registry import NoChampionError, TrackingUnavailable
from leadops.storage.lake import StorageError


def _raised_from(error: Exception, cause: BaseException) -> Exception:
    try:
        raise error from cause
    except Exception as exc:  # noqa: BLE001 - the chained exception is what we test
        return exc


@pytest.mark.parametrize(
    "error",
    [
        NoChampionError("no champion for leadops-model"),
        SourceError("leads/*.csv: matches no file"),
        StorageError("lake key 'x': not found under /lake"),
        FileNotFoundError("missing.csv"),
        PermissionError("read-only"),
        ValueError("bad row"),
        KeyError("column"),
    ],
)
def test_permanent_errors_are_not_retried(error: Exception) -> None:
    assert not is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        TrackingUnavailable("MLflow tracking server http://x: unreachable"),
        ConnectionRefusedError("refused"),
        TimeoutError("timed out"),
    ],
)
def test_network_errors_are_retried(error: Exception) -> None:
    assert is_transient(error)


def test_a_storage_error_wrapping_a_timeout_is_retried() -> None:
    error = _raised_from(StorageError("s3://bucket/key: read timed out"), TimeoutError("read"))
    assert is_transient(error)


def test_a_permanent_error_raised_from_a_permanent_cause_stays_permanent() -> None:
    error = _raised_from(
        LeadOpsError("leads.csv: not a CSV"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    )
    assert not is_transient(error)
