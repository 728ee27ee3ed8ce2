"""The expectation suites of a data contract (GX 1.x JSON format).

Suites belong to a contract, not to the package. Which suite a run uses:

1. ``<kind>.json`` in ``LEADOPS_EXPECTATIONS_DIR``, when that setting is given;
2. ``expectations/<kind>.json`` beside the contract file; the bundled contract's
   suites are the project's top-level ``expectations/`` package (installed with it);
3. otherwise the suite derived from the contract at run time.

``leadops suites --out DIR`` writes editable suites for the current contract;
expectations marked ``"hand_tuned": true`` in their meta survive regeneration when
the contract still has their column. Nothing is written into the installed project.

Every expectation carries ``meta.name`` ("<column>:<check>"): the name a
quarantined row lists in ``_failed_expectations``. Table-level expectations
(column exists) fail the whole file; column-map expectations route rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expectations import SUITES_DIR
from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract, FeatureColumn
from leadops.inputs.normalise import unparsed_flag
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.tables import KINDS

BESIDE_CONTRACT = "expectations"
AS_OF_PARAMETER = "as_of"
# Permissive on purpose: it catches "not an address" (no @, spaces, formula text),
# not every RFC 5322 corner.
EMAIL_REGEX = (
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"
)
PARSE_CHECKS = {
    "numeric": "numeric",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "multi_valued": "list",
}
FILE_LEVEL_TYPES = frozenset({"expect_column_to_exist"})


class SuiteError(LeadOpsError):
    """An expectation suite that cannot be loaded or used."""


def _expectation(kind: str, name: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"name": name, "derived_from": "contract"}}


def required_columns(contract: Contract, kind: str) -> list[str]:
    """Columns without which a file of ``kind`` is structurally unusable."""
    if kind == "outcomes":
        # The deal value is optional: an outcomes export without it still decides labels.
        return contract.label_columns
    return contract.required_lead_columns


def derive_suite(contract: Contract, kind: str) -> dict[str, Any]:
    """The suite the contract implies for ``kind`` (leads or outcomes)."""
    roles = contract.roles(kind)
    required = required_columns(contract, kind)
    not_null = [contract.entity_id, contract.label] if kind == "outcomes" else required
    items = [_expectation("expect_column_to_exist", f"{c}:present", column=c) for c in required]
    items += [
        _expectation("expect_column_values_to_not_be_null", f"{c}:not_null", column=c)
        for c in not_null
    ]
    for column, role in roles.items():
        items += _role_checks(contract, column, role)
    if kind == "outcomes":
        # A conversion without its time cannot be placed in the outcome window: the label
        # would be decided by where the missing value happens to fall.
        items.append(
            _expectation(
                "expect_column_values_to_not_be_null",
                f"{contract.label_time}:when_converted",
                column=contract.label_time,
                row_condition=f"`{contract.label}` == True",
                condition_parser="pandas",
            )
        )
    return {
        "name": f"{contract.name}-{kind}",
        "expectations": items,
        "meta": {
            "generated_by": "tasks.ingest.suites",
            "contract": contract.name,
            "parameters": {AS_OF_PARAMETER: "evaluation time of the ingest run (UTC)"},
        },
        "notes": "Derived from the data contract; hand_tuned expectations survive regeneration.",
    }


def _role_checks(contract: Contract, column: str, role: str) -> list[dict[str, Any]]:
    checks = []
    if role in PARSE_CHECKS:
        checks.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                f"{column}:{PARSE_CHECKS[role]}",
                column=unparsed_flag(column),
                value_set=[False],
            )
        )
    if role == "timestamp":
        checks.append(
            _expectation(
                "expect_column_values_to_be_between",
                f"{column}:not_future",
                column=column,
                max_value={"$PARAMETER": AS_OF_PARAMETER},
            )
        )
    if role == "email":
        checks.append(
            _expectation(
                "expect_column_values_to_match_regex",
                f"{column}:format",
                column=column,
                regex=EMAIL_REGEX,
            )
        )
    if role == "numeric":
        # The value column is no feature: a deal amount is never negative, with no top.
        value = FeatureColumn(column, "numeric", min=0)
        feature = value if column == contract.value else contract.feature(column)
        if feature.min is not None or feature.max is not None:
            checks.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    f"{column}:range",
                    column=column,
                    min_value=feature.min,
                    max_value=feature.max,
                )
            )
    return checks


def suite_path(kind: str, suites_dir: Path = SUITES_DIR) -> Path:
    return Path(suites_dir) / f"{kind}.json"


def load_suite(kind: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    """Read a suite JSON file.

    Raises:
        SuiteError: one line naming the file when it is missing or not valid JSON.
    """
    path = suite_path(kind, suites_dir)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"expectation suite {path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SuiteError(f"expectation suite {path}: not valid JSON ({exc})") from None
    unnamed = [
        e.get("type") for e in suite.get("expectations", []) if not e.get("meta", {}).get("name")
    ]
    if unnamed:
        raise SuiteError(
            f"expectation suite {path}: every expectation needs meta.name ({unnamed[0]})"
        )
    return suite


def check_against_contract(
    suite: dict[str, Any], contract: Contract, kind: str, path: Path
) -> None:
    """Refuse a suite that names columns the contract does not have (before anything is written).

    Every row would otherwise be judged against columns that are not there.
    """
    unknown = sorted(_columns_named(suite) - set(contract.roles(kind)))
    if unknown:
        raise SuiteError(
            f"expectation suite {path}: column(s) {', '.join(unknown)} are not in the contract "
            f"{contract.name!r}; write suites for it with `leadops suites --out DIR`"
        )


def _columns_named(expectations: dict[str, Any] | list[dict[str, Any]]) -> set[str]:
    from leadops.inputs.normalise import UNPARSED_SUFFIX

    items = expectations.get("expectations", []) if isinstance(expectations, dict) else expectations
    return {
        str(e.get("kwargs", {}).get("column", "")).removesuffix(UNPARSED_SUFFIX) for e in items
    } - {""}


def suites_dir_for(contract: Contract, configured: Path | None) -> Path | None:
    """The folder of the user's own suites for ``contract``, or None: derive them (module doc)."""
    if configured is not None:
        return Path(configured)
    if contract.source == "<memory>":
        return None
    if Path(contract.source).resolve() == BUNDLED_CONTRACT.resolve():
        return SUITES_DIR
    beside = Path(contract.source).resolve().parent / BESIDE_CONTRACT
    if any(suite_path(kind, beside).is_file() for kind in KINDS):
        return beside
    return None


def contract_suite(
    contract: Contract, kind: str, suites_dir: Path | None
) -> tuple[dict[str, Any], str]:
    """The suite a run of ``kind`` uses and its source (a path or "derived from <contract>").

    Raises:
        SuiteError: the user's suite is missing, unreadable, or names columns the contract lacks.
    """
    if suites_dir is None:
        return derive_suite(contract, kind), f"derived from contract {contract.name!r}"
    suite = load_suite(kind, suites_dir)
    check_against_contract(suite, contract, kind, suite_path(kind, suites_dir))
    return suite, str(suite_path(kind, suites_dir))


def regenerate(contract: Contract, suites_dir: Path, tuned_from: Path | None = None) -> list[Path]:
    """Write every kind's suite for ``contract`` into ``suites_dir``.

    Hand-tuned expectations of the suites already in ``suites_dir`` (else in ``tuned_from``)
    are kept when the contract still has every column they name; the others are dropped.
    """
    written = []
    for kind in KINDS:
        suite = derive_suite(contract, kind)
        path = suite_path(kind, suites_dir)
        source = suites_dir if path.exists() else tuned_from
        if source is not None and suite_path(kind, source).exists():
            known = set(contract.roles(kind))
            suite["expectations"] += [
                e
                for e in load_suite(kind, source)["expectations"]
                if e.get("meta", {}).get("hand_tuned") and _columns_named([e]) <= known
            ]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
