"""The model page in a real browser: headless Chromium shows every section and figure,
the figures decode, nothing is logged as an error, and it fits a laptop screen's width."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from leadops.models.transitions import HISTORY_KEY
from leadops.storage.local import open_lake
from tasks.monitoring.report.build import write_page
from tasks.monitoring.report.page import SECTIONS
from tests.support.browser import ensure_chromium, visit
from tests.support.model_page import WEEK0, scored_lake
from tests.support.rollout import NAME

LAPTOP_WIDTH = 1280

CHECKS = {
    "sections": "[...document.querySelectorAll('section')].map(s => s.id)",
    "figures": "document.images.length",
    "decoded": "[...document.images].every(i => i.complete && i.naturalWidth > 0)",
    "scroll_width": "document.documentElement.scrollWidth",
    "readiness": "document.getElementById('readiness').textContent",
}


def test_the_page_renders_in_chromium_without_errors(settings) -> None:
    binary = ensure_chromium()
    if binary is None:
        pytest.skip("no chromium: not root, so Debian's package cannot be installed here")
    scored_lake(settings)
    gate = {"version": "1", "stage": "production", "fraction": 1.0, "as_of": WEEK0.isoformat()}
    gate.update(reason="first model", metrics={"roc_auc": 0.8, "precision_at_capacity": 0.4})
    open_lake(settings).write_bytes(HISTORY_KEY, json.dumps([gate]).encode())
    page = write_page(settings, NAME, WEEK0 + timedelta(weeks=4))

    seen = visit(binary, page, CHECKS, width=LAPTOP_WIDTH)

    assert seen.errors == []
    assert seen.values["sections"] == list(SECTIONS)
    assert seen.values["figures"] == 6 and seen.values["decoded"] is True
    assert seen.values["scroll_width"] <= LAPTOP_WIDTH  # no sideways scrolling
    assert seen.values["readiness"].startswith("ready: AUC")
    assert seen.screenshot.startswith(b"\x89PNG")
