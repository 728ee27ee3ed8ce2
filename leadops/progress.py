"""One progress line on a terminal for long work (ingest, the search, scoring, the demo).

Stages call ``show`` / ``count`` with what they know (files, rows, trials, best AUC); the
CLI turns the line on only when stderr is a terminal and the output is not ``--json``, so
CI logs, pipes and served runs get nothing extra. Off, every call is a dictionary lookup.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

_MIN_INTERVAL_S = 0.25  # redraw at most four times a second

_lock = threading.Lock()
_state: dict[str, dict[str, object]] = {}
_stream: TextIO | None = None
_drawn_at = 0.0
_on_screen = False


def enable(stream: TextIO | None = None) -> None:
    """Draw progress on ``stream`` (stderr); only the CLI calls this, for a terminal."""
    global _stream
    _stream = stream or sys.stderr


def disable() -> None:
    global _stream
    clear()
    _stream = None
    _state.clear()


def begin(what: str) -> None:
    """Start ``what``'s line afresh (a new run's counts start at zero)."""
    with _lock:
        _state.pop(what, None)


def show(what: str, **fields: object) -> None:
    """Set ``fields`` of ``what``'s line, e.g. ``show("search", trials="3/40", best_auc=0.81)``."""
    if _stream is None:
        return
    with _lock:
        _state.setdefault(what, {}).update(fields)
        _draw(what)


def count(what: str, field: str, amount: int) -> None:
    """Add ``amount`` to a running count, e.g. ``count("ingest", "rows", len(chunk))``."""
    if _stream is None:
        return
    with _lock:
        fields = _state.setdefault(what, {})
        fields[field] = int(fields.get(field, 0)) + amount  # type: ignore[call-overload]
        _draw(what)


def clear() -> None:
    """Erase the line, so that the next printed line starts clean."""
    global _on_screen
    if _stream is not None and _on_screen:
        _stream.write("\r\x1b[K")
        _stream.flush()
        _on_screen = False


def line(what: str) -> str:
    """The text drawn for ``what`` (for tests and logs)."""
    fields = _state.get(what, {})
    return f"{what}: " + ", ".join(
        f"{name.replace('_', ' ')} {_fmt(value)}" for name, value in fields.items()
    )


def _draw(what: str) -> None:
    global _drawn_at, _on_screen
    now = time.monotonic()
    if now - _drawn_at < _MIN_INTERVAL_S or _stream is None:
        return
    _drawn_at = now
    _stream.write("\r\x1b[K" + line(what)[:200])
    _stream.flush()
    _on_screen = True


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
