"""``leadops report`` and the model pages' address under ``leadops serve``.

The pages are plain files under ``<home>/reports``; ``leadops serve`` serves that folder
on LEADOPS_REPORT_PORT so a page has one address a team can bookmark
(``http://127.0.0.1:8585/model-<name>.html``), which the monitor rewrites in place.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from leadops.clock import utc
from leadops.settings import Settings, get_settings


def report_summary(as_of: datetime | None) -> tuple[dict[str, Any], str]:
    """Write every model's page; the JSON result and the human lines."""
    from tasks.monitoring.report.build import write_pages

    moment = utc(as_of)
    paths = write_pages(get_settings(), moment)
    lines = [f"model page: {p} ({p.stat().st_size / 1e6:.1f} MB)" for p in paths]
    lines.append("  open it in a browser, or run `leadops serve` for its address")
    result = {"as_of": moment.isoformat(), "pages": [str(p) for p in paths]}
    return result, "\n".join(lines)


class _QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # one line per request would bury serve's own output


@contextmanager
def pages_server(settings: Settings, host: str) -> Iterator[str]:
    """Serve ``<home>/reports`` read-only on ``settings.report_port`` (a free port when 0);
    yields the base URL. Stopped when the block ends."""
    folder = settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietPages, directory=str(folder))
    try:
        server = ThreadingHTTPServer((host, settings.report_port), handler)
    except OSError:  # the port is taken (another home's serve): any free one still works
        server = ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="model-pages", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
