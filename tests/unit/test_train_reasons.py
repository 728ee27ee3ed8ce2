"""The train reasons are spelled once (leadops.decisions.train_reasons): a second spelling
would let the CLI accept a reason the flow refuses, or split one cause's monitor history."""

from __future__ import annotations

import ast
from pathlib import Path

from leadops.decisions.train_reasons import TRAIN_REASONS

ROOT = Path(__file__).resolve().parents[2]
HOME = Path("leadops/decisions/train_reasons.py")


def _constants_spelling_a_reason(path: Path) -> list[str]:
    """Module-level NAME = "<reason>" (or a tuple of only reasons) in one source file; a
    tuple of other names that shares a word (the demo's scenarios) is another concept."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        if all(isinstance(v, ast.Constant) and v.value in TRAIN_REASONS for v in values):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_defines_its_own_train_reason_constant() -> None:
    sources = [
        path
        for package in ("leadops", "tasks", "flows", "app", "deployments")
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT) != HOME
    ]
    spelled = [hit for path in sources for hit in _constants_spelling_a_reason(path)]
    assert spelled == []


def test_every_reason_the_monitor_can_start_is_one_train_accepts(monkeypatch) -> None:
    from flows.train import train
    from leadops.decisions import train_reasons
    from leadops.errors import LeadOpsError

    monitor_causes = {train_reasons.DRIFT, train_reasons.CONVERSION_DROP}
    monitor_causes |= {train_reasons.MISCALIBRATION, train_reasons.RANKING_LOSS}
    monitor_causes |= {train_reasons.VALUE_SHIFT}
    assert monitor_causes <= set(TRAIN_REASONS)
    try:
        train.fn(reason="drifted")
    except LeadOpsError as exc:
        assert all(reason in str(exc) for reason in TRAIN_REASONS)
    else:
        raise AssertionError("train accepted an unknown reason")
