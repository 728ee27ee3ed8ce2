"""The user-facing error type and how a failure becomes one line."""

from __future__ import annotations

import re


class LeadOpsError(RuntimeError):
    """A failure the user can act on; its message names the input and the cause."""


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
_S3_XML_ERROR = re.compile(r"<Error>.*?<Code>(.*?)</Code>.*?<Message>(.*?)</Message>.*?</Error>",
                           re.S)


def _flatten_chain(text: str) -> str:
    """deltalake's "Generic S3 error / ↳ ... / ↳ 503 Service Unavailable / ↳ <xml>"
    as one line: the first line alone would drop the cause (the S3 error code)."""
    text = _XML_DECLARATION.sub("", _ANSI.sub("", text))
    text = _S3_XML_ERROR.sub(lambda m: f"{m.group(1)}: {m.group(2)}", text)
    links = [line.strip().lstrip(_CHAIN_ARROW).strip(" :") for line in text.splitlines()]
    return " ".join(": ".join(link for link in links if link).split())
