"""The data contract: which column plays which role in a CRM export.

Everything downstream (expectations, features, scoring, monitoring) asks the
contract for column names, so a different CRM needs a different YAML, not code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from leadops.errors import LeadOpsError
from leadops.storage.tables import KINDS

ROLES = ("numeric", "categorical", "boolean", "multi_valued", "email", "text")
KEY_COLUMNS = ("entity_id", "event_time", "label", "label_time")
# The one role -> Arrow type map: silver, gold and a scored batch file hold every
# contract column in the type of its role. Key columns play "id" and "timestamp";
# an outcome's label plays "boolean".
ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "numeric": pa.float64(),
    "boolean": pa.bool_(),
    "multi_valued": pa.list_(pa.string()),
    "categorical": pa.string(),
    "email": pa.string(),
    "text": pa.string(),
}
# A multi-valued cell given as text (not a JSON array) is split on any of these.
MULTI_VALUE_DELIMITERS = "|;,"


class ContractError(LeadOpsError, ValueError):
    """A contract file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class FeatureColumn:
    name: str
    role: str
    required: bool = False
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    entity_id: str
    event_time: str
    label: str
    label_time: str
    outcome_window_days: int
    features: tuple[FeatureColumn, ...]
    source: str = field(default="<memory>", compare=False)
    # How the CRM spells a won label ("Won", "Closed Won"); empty: true/yes/1 and false/no/0.
    positive_values: tuple[str, ...] = ()
    # Spellings of a lost label; empty with positive_values: any other value is a loss.
    negative_values: tuple[str, ...] = ()
    # Digit-group separator of numeric cells ("1,234,567"); None: numbers carry none.
    thousands_separator: str | None = None
    # The "changed at" column of the CRM's database tables (leads and outcomes): a database
    # source reads the rows changed since its last run by it. Not a feature; None: files only.
    updated_at: str | None = None
    # The deal amount of a won lead in the outcomes (one currency); None: no value model.
    value: str | None = None

    def by_role(self, role: str) -> list[str]:
        """Names of the feature columns that play ``role``, in contract order."""
        if role not in ROLES:
            raise ContractError(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
        return [f.name for f in self.features if f.role == role]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def lead_columns(self) -> list[str]:
        """Columns a leads export carries: id, event time, then features."""
        return [self.entity_id, self.event_time, *self.feature_names]

    @property
    def outcome_columns(self) -> list[str]:
        return list(self.roles("outcomes"))

    @property
    def label_columns(self) -> list[str]:
        """The outcome columns that decide a lead's label: id, label, label time. Readers of
        labels ask for these only, so outcomes stored before the contract named a value
        column (or without one) still read."""
        return [self.entity_id, self.label, self.label_time]

    def absent_from(self, table: str, columns: Iterable[str]) -> str | None:
        """Why a stored table cannot serve this contract: the lead columns it lacks (one
        line), or None when it has them all."""
        present = set(columns)
        absent = [c for c in self.lead_columns if c not in present]
        if not absent:
            return None
        return (
            f"table {table} has no column(s) {', '.join(absent)}, which contract {self.name!r} "
            "names: its leads were ingested under a contract without them; ingest a leads "
            "export that has them (leads ingested before get them empty), or take them out "
            "of the contract"
        )

    @property
    def required_lead_columns(self) -> list[str]:
        """Columns whose absence makes a leads file structurally unusable."""
        return [self.entity_id, self.event_time, *(f.name for f in self.features if f.required)]

    def roles(self, kind: str = "leads") -> dict[str, str]:
        """Column name -> role for a leads or outcomes file, in file order (the one map).

        Roles: those of :data:`ROLES` for features, ``id`` and ``timestamp`` for key
        columns, ``boolean`` for an outcome's label.

        Raises:
            ContractError: ``kind`` is neither leads nor outcomes.
        """
        if kind == "outcomes":
            columns = {self.entity_id: "id", self.label: "boolean", self.label_time: "timestamp"}
            return {**columns, self.value: "numeric"} if self.value else columns
        if kind != "leads":
            raise ContractError(f"unknown file kind {kind!r}; known: {', '.join(KINDS)}")
        return {
            self.entity_id: "id",
            self.event_time: "timestamp",
            **{feature.name: feature.role for feature in self.features},
        }

    def arrow_schema(self, kind: str = "leads") -> pa.Schema:
        """The contract columns of ``kind`` typed by role (see :data:`ARROW_TYPES`)."""
        return pa.schema(
            [pa.field(name, ARROW_TYPES[role]) for name, role in self.roles(kind).items()]
        )

    def parse_options(self, kind: str = "leads") -> dict[str, Any]:
        """Keyword arguments for :func:`leadops.inputs.normalise.parse_frame` from this contract."""
        booleans = {}
        if kind == "outcomes" and self.positive_values:
            booleans[self.label] = (
                frozenset(v.casefold() for v in self.positive_values),
                frozenset(v.casefold() for v in self.negative_values) or None,
            )
        return {"booleans": booleans, "thousands": self.thousands_separator}

    def feature(self, name: str) -> FeatureColumn:
        for column in self.features:
            if column.name == name:
                return column
        raise KeyError(name)


def load_contract(path: str | Path) -> Contract:
    """Read and check a contract YAML.

    Raises:
        ContractError: one line naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"contract {path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ContractError(f"contract {path}: not valid YAML ({first_line})") from None
    return parse_contract(raw, source=str(path))


def parse_contract(raw: Any, source: str = "<memory>") -> Contract:
    """Build a Contract from parsed YAML, collecting every problem into one line."""
    if not isinstance(raw, dict):
        raise ContractError(f"contract {source}: expected a mapping at the top level")
    problems: list[str] = []
    for key in ("entity_id", "label"):
        if not raw.get(key):
            problems.append(f"no {key} column named")
    for key in ("event_time", "label_time"):
        if not raw.get(key):
            problems.append(f"no {key} column named")
    features = _parse_features(raw.get("features"), problems)
    names = [str(raw.get(k)) for k in (*KEY_COLUMNS, "value") if raw.get(k)]
    names += [f.name for f in features]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate column(s) {', '.join(duplicates)}")
    window = raw.get("outcome_window_days", 30)
    if not isinstance(window, int) or window < 1:
        problems.append("outcome_window_days must be a positive integer")
    spellings = {
        key: _spellings(raw.get(key), key, problems)
        for key in ("positive_values", "negative_values")
    }
    if spellings["negative_values"] and not spellings["positive_values"]:
        problems.append("negative_values needs positive_values")
    thousands = raw.get("thousands_separator")
    if thousands not in (None, ",", ".", " ", "'"):
        problems.append("thousands_separator must be one of ',', '.', ' ' or \"'\"")
    if problems:
        raise ContractError(f"contract {source}: " + "; ".join(problems))
    return Contract(
        name=str(raw.get("name", Path(source).stem)),
        entity_id=raw["entity_id"],
        event_time=raw["event_time"],
        label=raw["label"],
        label_time=raw["label_time"],
        outcome_window_days=window,
        features=tuple(features),
        source=source,
        thousands_separator=thousands,
        updated_at=str(raw["updated_at"]) if raw.get("updated_at") else None,
        value=str(raw["value"]) if raw.get("value") else None,
        **spellings,
    )


def _parse_features(raw: Any, problems: list[str]) -> list[FeatureColumn]:
    if not isinstance(raw, list) or not raw:
        problems.append("features must be a non-empty list of {name, role}")
        return []
    features: list[FeatureColumn] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "name" not in item or "role" not in item:
            problems.append(f"feature #{index + 1} needs a name and a role")
            continue
        unknown_keys = set(item) - {"name", "role", "required", "min", "max"}
        if unknown_keys:
            problems.append(f"feature {item['name']!r} has unknown key(s) {sorted(unknown_keys)}")
        if item["role"] not in ROLES:
            problems.append(
                f"feature {item['name']!r} has unknown role {item['role']!r} "
                f"(known: {', '.join(ROLES)})"
            )
            continue
        features.append(
            FeatureColumn(
                name=str(item["name"]),
                role=item["role"],
                required=bool(item.get("required", False)),
                min=item.get("min"),
                max=item.get("max"),
            )
        )
    return features


def _spellings(raw: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    """A list of label spellings (strings or numbers) as trimmed strings."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, (str, int, float)) for v in raw):
        problems.append(f"{key} must be a list of values as the CRM writes them")
        return ()
    # YAML reads an unquoted yes/no/on/off as a boolean: take back every spelling of it.
    words = {True: ("true", "yes", "y", "on"), False: ("false", "no", "n", "off")}
    return tuple(w for v in raw for w in (words[v] if isinstance(v, bool) else (str(v).strip(),)))
