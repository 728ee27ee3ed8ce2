"""Writing the widened contract (``leadops contract check --write``), and the command's lines.

A feature written on one line (``- {name: x, role: boolean}``, as ``contract init`` and
the bundled contract write them) is rewritten in place, so the file's comments stay;
any other layout is re-dumped whole. The result is parsed as a contract before it is
written, and nothing is written into the installed project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from app.contract.contract_check import CheckRejections, rejections, widened
from app.contract.contract_init import PROJECT_DIRS, OutputError, checked_out
from leadops.inputs.contract import parse_contract
from leadops.storage.tables import KINDS

FLOW_FEATURE = re.compile(r"^(?P<indent>\s*-\s*)(?P<mapping>\{.*\})\s*(?P<comment>#.*)?$")


def widened_text(text: str, changes: dict[str, dict[str, Any]]) -> str:
    """The contract YAML ``text`` with each named feature's keys changed."""
    lines, pending = text.splitlines(), dict(changes)
    for number, line in enumerate(lines):
        match = FLOW_FEATURE.match(line)
        if not match:
            continue
        mapping = yaml.safe_load(match["mapping"])
        if not isinstance(mapping, dict) or mapping.get("name") not in pending:
            continue
        mapping.update(pending.pop(mapping["name"]))
        flow = yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False).strip()
        comment = f"  {match['comment']}" if match["comment"] else ""
        lines[number] = f"{match['indent']}{flow}{comment}"
    if not pending:
        return "\n".join(lines) + "\n"
    raw = yaml.safe_load(text)
    for feature in raw.get("features", []):
        feature.update(pending.get(feature.get("name"), {}))
    return yaml.safe_dump(raw, sort_keys=False)


def check_contract(settings: Any, write: bool = False, out: Path | None = None) -> list[str]:
    """The quarantined rows per check, the proposed widening, and (``write``) the file written.

    Args:
        write: write the widened contract to the configured contract file (or ``out``).
        out: write it here instead (implies ``write``).

    Raises:
        OutputError: the target is inside the installed project, or its folder is missing.
    """
    from leadops.inputs.contract import load_contract
    from leadops.storage.local import open_lake
    from tasks.ingest.suites import contract_suite, suites_dir_for

    contract = load_contract(settings.contract_path)
    lake = open_lake(settings)
    suites_dir = suites_dir_for(contract, settings.expectations_dir)
    found: list[CheckRejections] = []
    lines = []
    for kind in KINDS:
        suite, _ = contract_suite(contract, kind, suites_dir)
        rejected = rejections(lake, contract, kind, suite)
        if rejected:
            lines.append(f"quarantined {kind}, by check:")
            lines += [f"  {r.line()}" for r in rejected]
        found += rejected
    if not found:
        return [f"nothing in quarantine: contract {contract.source} takes every ingested row"]
    proposals = [r.proposal for r in found if r.proposal]
    lines.append("proposed widening:" if proposals else "no widening proposed (bad data, kept)")
    lines += [f"  {p}" for p in proposals]
    changes = widened(found)
    if not changes:
        return lines
    if not (write or out):
        return [*lines, "write it with --write (or --out FILE), then `leadops quarantine replay`"]
    source = Path(contract.source)
    if out is None and any(source.resolve().is_relative_to(d) for d in PROJECT_DIRS):
        raise OutputError(
            f"contract {source}: the bundled contract, inside the installed project; "
            "write the widened copy elsewhere with --out FILE"
        )
    target = checked_out(out or source, folder=False)
    text = widened_text(source.read_text(encoding="utf-8"), changes)
    parse_contract(yaml.safe_load(text), source=str(target))  # refuse to write a broken one
    target.write_text(text, encoding="utf-8")
    lines.append(f"wrote {target}; now run `leadops quarantine replay`")
    if target != source.resolve():
        lines.append(f"  (use it: export LEADOPS_CONTRACT_PATH={target})")
    if suites_dir is not None:
        lines.append(
            f"  your suites in {suites_dir} are unchanged: `leadops suites --out {suites_dir}`"
        )
    return lines
