"""The user-facing error type and how a failure becomes one line."""

from __future__ import annotations


class LeadOpsError(RuntimeError):
    """A failure the user can act on; its message names the input and the cause."""


def one_line(exc: BaseException) -> str:
    """One line for the user: the first line of the message, or for a settings
    validation error every bad setting with its environment variable."""
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":
        try:
            parts = [
                f"setting {'.'.join(map(str, e['loc']))} "
                f"(LEADOPS_{'_'.join(map(str, e['loc'])).upper()}): {e['msg']}"
                for e in errors()
            ]
            return "; ".join(parts)
        except Exception:  # fall back to the plain message
            pass
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
