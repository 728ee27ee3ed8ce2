"""The user-facing error type and how a failure becomes one line."""

from __future__ import annotations

import re


class LeadOpsError(RuntimeError):
    """A failure the user can act on; its message names the input and the cause.

    ``transient`` says whether the same call may succeed a little later (a server that
    does not answer); most are permanent (no champion, bad input) and never retried.
    """

    transient: bool = False


# Network client libraries: their errors are timeouts, refused connections and 5xx answers.
_NETWORK_MODULES = ("botocore", "urllib3", "requests", "httpx", "httpcore", "aiohttp", "s3fs")
# OSErrors about the input, not the moment: retrying them gives the same answer.
_PERMANENT_OS_ERRORS = (
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    FileExistsError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` may pass on its own (I/O, network) and so is worth a retry.

    A LeadOpsError is transient when its class says so or when it wraps a transient
    cause (an S3 call that timed out); anything else when it, or an exception it was
    raised from, is an OSError or a network library's error. Bugs and bad input are not.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "transient", False) is True:
            return True
        if isinstance(current, OSError) and not isinstance(current, _PERMANENT_OS_ERRORS):
            return True
        if type(current).__module__.split(".")[0] in _NETWORK_MODULES:
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def retry_if_transient(_task: object, _task_run: object, state: object) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed task run only on a transient error."""
    exc = state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    return isinstance(exc, BaseException) and is_transient(exc)


def one_line(exc: BaseException) -> str:
    """One line for the user: the first line of the message, or for a settings
    validation error every bad setting with its environment variable, or for a
    deltalake / S3 error its chain of causes joined on one line."""
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
    text = str(exc)
    if _CHAIN_ARROW in text or "<Error>" in text:
        return _flatten_chain(text)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


_CHAIN_ARROW = "\u21b3"  # "↳": deltalake prints an error's causes one per line, coloured
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_XML_DECLARATION = re.compile(r"<\?xml[^>]*\?>")
_S3_XML_ERROR = re.compile(
    r"<Error>.*?<Code>(.*?)</Code>.*?<Message>(.*?)</Message>.*?</Error>", re.S
)


def _flatten_chain(text: str) -> str:
    """deltalake's "Generic S3 error / ↳ ... / ↳ 503 Service Unavailable / ↳ <xml>"
    as one line: the first line alone would drop the cause (the S3 error code)."""
    text = _XML_DECLARATION.sub("", _ANSI.sub("", text))
    text = _S3_XML_ERROR.sub(lambda m: f"{m.group(1)}: {m.group(2)}", text)
    links = [line.strip().lstrip(_CHAIN_ARROW).strip(" :") for line in text.splitlines()]
    return " ".join(": ".join(link for link in links if link).split())
