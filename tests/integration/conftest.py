"""Everything here starts processes or servers: marked ``integration``, so ``make test-fast``
(``-m "not slow and not integration"``) leaves it to ``make test``, whatever a module marks."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
