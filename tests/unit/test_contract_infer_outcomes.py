"""`leadops contract init` on real CRM outcome exports: a label named anything, the
outcome window from the observed delays, counts that stay numbers, constant columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.contract.contract_infer import propose
from leadops.inputs.contract import load_contract

START = pd.Timestamp("2026-01-01")


def history(n: int, delay_days: tuple[float, float], seed: int = 0) -> dict[str, pd.DataFrame]:
    """A leads sample and its outcomes (yes/no, decided delay_days after creation)."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(rng.integers(0, 30 * 24, n), unit="h")
    leads = pd.DataFrame(
        {
            "client": np.arange(1, n + 1),
            "created": created.strftime("%Y-%m-%d %H:%M"),
            "age": rng.integers(20, 70, n),
            "previous": 0,
            "default_flag": rng.integers(0, 2, n),
            "housing": rng.choice(["yes", "no"], n),
        }
    ).astype(str)
    decided = created + pd.to_timedelta(rng.uniform(*delay_days, n), unit="D")
    outcomes = pd.DataFrame(
        {
            "client": leads["client"],
            "channel": rng.choice(["email", "phone"], n),
            "subscribed": rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
            "decided_at": decided.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    return {"leads.csv": leads, "outcomes.csv": outcomes}


@pytest.mark.parametrize(
    ("column", "win", "loss"),
    [
        ("subscribed", "yes", "no"),
        ("flag", "TRUE", "FALSE"),
        ("x", "1", "0"),
        ("deal", "won", "lost"),
        ("bought", "Y", "N"),
        ("result_of_call", "converted", "not converted"),
        ("z", "Signed up", "Lost"),
    ],
)
def test_any_two_valued_column_is_the_label_with_its_win_spelling(
    column: str, win: str, loss: str
) -> None:
    outcomes = pd.DataFrame(
        {
            "ref": [f"L{n}" for n in range(12)],
            column: [win if n % 3 else loss for n in range(12)],
            # No name hint: the values alone say these are times.
            "when": [f"2026-02-{n + 1:02d} 10:00" for n in range(12)],
        }
    )
    proposal = propose({"outcomes.csv": outcomes})
    assert (proposal.label, proposal.label_time) == (column, "when")
    assert proposal.positive_values == [win]
    assert any(
        r.startswith(f"label: {column} (") and f"positive: {win}," in r for r in proposal.reasons
    )


def test_a_label_with_win_or_loss_words_is_preferred_to_another_two_valued_column() -> None:
    proposal = propose({"outcomes.csv": history(40, (0, 3))["outcomes.csv"]})
    assert proposal.label == "subscribed" and proposal.label_time == "decided_at"
    assert any("also one or two values: channel" in r for r in proposal.reasons)


@pytest.mark.parametrize(("delays", "window"), [((0.1, 3), 7), ((3, 40), 45), ((1, 13), 14)])
def test_the_outcome_window_covers_99_percent_of_the_observed_win_delays(
    delays: tuple[float, float], window: int
) -> None:
    proposal = propose(history(600, delays))
    wins = (history(600, delays)["outcomes.csv"]["subscribed"] == "yes").sum()
    assert proposal.outcome_window_days == window
    assert f"outcome_window_days: {window} (99% of {wins:,} wins came within" in "\n".join(
        proposal.reasons
    )


def test_without_a_leads_sample_the_window_is_the_default_and_says_so() -> None:
    proposal = propose({"outcomes.csv": history(40, (0, 3))["outcomes.csv"]})
    assert proposal.outcome_window_days == 30
    assert any(
        r.startswith("outcome_window_days: 30 (the default: no win") for r in proposal.reasons
    )


def test_counts_stay_numbers_and_constant_columns_are_flagged(tmp_path: Path, home: Path) -> None:
    from app.contract.contract_init import init_contract

    for name, frame in history(200, (0, 3)).items():
        frame.to_csv(tmp_path / name, index=False)
    lines = init_contract(
        [str(tmp_path / "leads.csv"), str(tmp_path / "outcomes.csv")], tmp_path / "c.yaml"
    )
    contract = load_contract(tmp_path / "c.yaml")
    roles = {f.name: f.role for f in contract.features}
    # 0 and 1 in the sample, counts later: a boolean check would quarantine them.
    assert roles == {
        "age": "numeric",
        "previous": "numeric",
        "default_flag": "numeric",
        "housing": "boolean",
    }
    assert (contract.label, contract.positive_values) == ("subscribed", ("yes",))
    assert contract.outcome_window_days == 7
    assert "previous: numeric (values are numbers; constant in the sample: check it)" in lines
    written = (tmp_path / "c.yaml").read_text()
    assert '{name: "previous", role: numeric}  # constant in the sample: check it' in written
    assert "# outcome_window_days: 7 (99% of " in written  # the reason stays with the value
    assert "age" not in [c for c in written.splitlines() if "constant" in c][0]


def test_a_small_leads_sample_with_a_yes_no_column_is_not_taken_for_the_outcomes() -> None:
    samples = history(60, (0, 3))
    leads = samples["leads.csv"][["client", "created", "age", "housing"]]
    proposal = propose({"leads.csv": leads, "outcomes.csv": samples["outcomes.csv"]})
    assert (proposal.event_time, proposal.label) == ("created", "subscribed")
    assert [name for name, _ in proposal.features] == ["age", "housing"]
