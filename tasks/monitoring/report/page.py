"""The page itself: one self-contained HTML (figures inline, no script, no network)."""

from __future__ import annotations

import html

from tasks.monitoring.report.layout import PageInputs
from tasks.monitoring.report.page_sections import (
    accuracy_section,
    conversion_section,
    decisions_section,
    estimate_section,
    quality_section,
)

SECTIONS = ("conversion", "accuracy", "estimate", "quality", "decisions")
STYLE = """body{font-family:system-ui,sans-serif;max-width:800px;margin:1em auto;padding:0 1em;
color:#222}img{max-width:100%;height:auto}table{border-collapse:collapse;font-size:13px;
width:100%}td,th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:right}
td{white-space:nowrap}td:first-child,th:first-child{text-align:left}
#decisions td:last-child,#decisions th:last-child{text-align:left;white-space:normal}
.ready{font-size:1.15em;padding:.5em;background:#eef6ee}.not{background:#fbeeee}
.none{color:#777}.estimate{font-style:italic}"""


def render(data: PageInputs) -> str:
    """The whole page as one HTML string."""
    css = "ready" if data.readiness.startswith("ready") else "ready not"
    body = "".join(
        part(data)
        for part in (
            conversion_section,
            accuracy_section,
            estimate_section,
            quality_section,
            decisions_section,
        )
    )
    title = f"Is {data.model_name} working? (as of {data.as_of:%Y-%m-%d %H:%M} UTC)"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><p id="readiness" class="{css}">'
        f"{html.escape(data.readiness)}</p>{body}</body></html>"
    )
