"""The user-facing error type and how a failure becomes one line."""

from __future__ import annotations


class LeadOpsError(RuntimeError):
    """A failure the user can act on; its message names the input and the cause."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
