"""The page's building blocks: what it shows (``PageInputs``) and small HTML pieces."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd


@dataclass(frozen=True)
class PageInputs:
    """Everything the page shows, already read (see ``build.gather``)."""

    model_name: str
    as_of: datetime
    served: pd.DataFrame
    quarantine: pd.DataFrame
    drift: pd.DataFrame
    decisions: pd.DataFrame
    readiness: str
    capacity: float
    psi_threshold: float


def table_html(frame: pd.DataFrame, columns: dict[str, str], limit: int = 12) -> str:
    """The last ``limit`` rows as a small table; ``columns`` maps column -> format spec."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row[c], f)}</td>" for c, f in columns.items()) + "</tr>"
        for _, row in frame.tail(limit).iterrows()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return html.escape(format(value, spec) if spec else str(value))


def section(key: str, title: str, parts: Iterable[str]) -> str:
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


def figure(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def nothing(why: str) -> str:
    return f'<p class="none">{html.escape(why)}</p>'
