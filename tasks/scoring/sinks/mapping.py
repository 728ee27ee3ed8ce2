"""The mapping file: which table and columns of the CRM's database receive the scores.

    table: crm.lead_scores           # created with these columns when it does not exist
    columns:                         # LeadOps field -> your column
      id: lead_id
      score: leadops_score
      tier: leadops_tier
      reasons: leadops_reasons       # the top reasons, strongest first, joined by " | "
      model_version: leadops_model_version
      scored_at: leadops_scored_at
      expected_value: leadops_expected_value   # the value fields: only while a deal-value
      predicted_value: leadops_predicted_value #   champion serves (added to an existing
      value_tier: leadops_value_tier           #   table then, nullable)
      value_model_version: leadops_value_model_version
    ledger_table: leadops_deliveries # optional: which (batch, part) were delivered

An existing table needs a unique constraint on the id and model_version columns: a
lead's score for a model version is upserted, never added twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from leadops.errors import LeadOpsError

FIELDS = ("id", "score", "tier", "reasons", "model_version", "scored_at")
VALUE_FIELDS = ("expected_value", "predicted_value", "value_tier", "value_model_version")
DEFAULT_LEDGER = "leadops_deliveries"


class MappingError(LeadOpsError):
    """A mapping file that cannot be used; one line naming the file and the problem."""


@dataclass(frozen=True)
class ScoreMapping:
    table: str
    columns: dict[str, str]  # LeadOps field -> CRM column, for every field (and value field)
    ledger_table: str = DEFAULT_LEDGER


def load_mapping(path: str | Path) -> ScoreMapping:
    """Read and check a mapping file.

    Raises:
        MappingError: missing file, not YAML, or a field without a column.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping {path}: file not found") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not raw.get("table"):
        raise MappingError(f"mapping {path}: expected a mapping with a 'table' key")
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        raise MappingError(f"mapping {path}: 'columns' must map fields to column names")
    known = FIELDS + VALUE_FIELDS
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise MappingError(
            f"mapping {path}: unknown field(s) {', '.join(unknown)} (known: {', '.join(known)})"
        )
    # An unmapped field keeps its own name: a new table needs no columns section at all.
    named = {name: str(columns.get(name) or name) for name in known}
    return ScoreMapping(str(raw["table"]), named, str(raw.get("ledger_table") or DEFAULT_LEDGER))
