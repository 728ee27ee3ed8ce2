"""The bundled synthetic CRM: deterministic, contract-shaped, learnable, and drifting on cue."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier

from app.demo.synthetic import GeneratorConfig, generate, generate_week, write_dataset
from leadops.inputs.contract import Contract, load_contract
from leadops.settings import BUNDLED_CONTRACT

FREE_EMAIL_DOMAINS = {"gmail.com", "yahoo.com", "outlook.com"}
LEADS_PER_WEEK = 3000


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(BUNDLED_CONTRACT)


def labelled(config: GeneratorConfig, contract: Contract) -> pd.DataFrame:
    """Leads with `week` and `y` = converted within the outcome window."""
    leads, outcomes = generate(config)
    window = pd.Timedelta(days=contract.outcome_window_days)
    merged = leads.merge(outcomes, on=contract.entity_id, how="left")
    age = merged[contract.label_time] - merged[contract.event_time]
    merged["y"] = (merged[contract.label].eq(True) & (age < window)).astype(int)
    merged["week"] = (merged[contract.event_time] - pd.Timestamp(config.start)).dt.days // 7 + 1
    return merged


@pytest.fixture(scope="module")
def stable(contract: Contract) -> pd.DataFrame:
    return labelled(GeneratorConfig(leads_per_week=LEADS_PER_WEEK), contract)


@pytest.fixture(scope="module")
def drifted(contract: Contract) -> pd.DataFrame:
    config = GeneratorConfig(leads_per_week=LEADS_PER_WEEK, scenario="covariate-drift")
    return labelled(config, contract)


def encode(
    frame: pd.DataFrame, contract: Contract, columns: pd.Index | None = None
) -> pd.DataFrame:
    """One-hot categoricals, numerics, booleans, tech multi-hot, free-email flag.

    With ``columns`` (a trained model's), unseen categories and technologies are dropped,
    as they would be for a model that never saw them.
    """
    parts = [
        pd.get_dummies(frame[contract.by_role("categorical")].astype(str), dtype=float),
        frame[contract.by_role("numeric") + contract.by_role("boolean")].astype(float),
    ]
    for column in contract.by_role("multi_valued"):
        items = frame[column].map(json.loads)
        vocabulary = sorted(set().union(*items))
        parts.append(
            pd.DataFrame(
                {f"{column}={v}": items.map(lambda xs, v=v: v in xs) for v in vocabulary},
                index=frame.index,
            ).astype(float)
        )
    for column in contract.by_role("email"):
        domain = frame[column].str.split("@").str[1]
        parts.append(domain.isin(FREE_EMAIL_DOMAINS).astype(float).rename(f"{column}_free"))
    encoded = pd.concat(parts, axis=1)
    return encoded if columns is None else encoded.reindex(columns=columns, fill_value=0.0)


def holdout_auc(train: pd.DataFrame, test: pd.DataFrame, contract: Contract) -> float:
    x_train = encode(train, contract)
    # One thread: under a busy CI runner, OpenMP threads spin and a 2 s fit takes a minute.
    model = XGBClassifier(
        n_estimators=250,
        max_depth=4,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.8,
        random_state=0,
        n_jobs=1,
    )
    model.fit(x_train, train["y"])
    scores = model.predict_proba(encode(test, contract, x_train.columns))[:, 1]
    return float(roc_auc_score(test["y"], scores))


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index with bins at the reference deciles."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))[1:-1]
    ref = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1)
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1)
    ref, cur = np.clip(ref / ref.sum(), 1e-4, None), np.clip(cur / cur.sum(), 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def category_psi(reference: pd.Series, current: pd.Series) -> float:
    codes = pd.Categorical(pd.concat([reference, current])).codes
    return psi(codes[: len(reference)], codes[len(reference) :], bins=len(set(codes)))


def test_same_config_writes_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    config = GeneratorConfig(weeks=3, leads_per_week=200, seed=11)
    first = write_dataset(config, tmp_path / "a")
    second = write_dataset(config, tmp_path / "b")
    other = write_dataset(replace(config, seed=12), tmp_path / "c")
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    assert first[0].read_bytes() != other[0].read_bytes()


def test_a_week_does_not_depend_on_how_many_weeks_or_on_later_drift() -> None:
    short_leads, short_outcomes = generate_week(GeneratorConfig(weeks=3, leads_per_week=300), 2)
    long_leads, long_outcomes = generate(GeneratorConfig(weeks=5, leads_per_week=300))
    pd.testing.assert_frame_equal(short_leads, long_leads.iloc[300:600].reset_index(drop=True))
    week_two = long_outcomes[long_outcomes["lead_id"].isin(short_leads["lead_id"])]
    pd.testing.assert_frame_equal(short_outcomes, week_two.reset_index(drop=True))
    before_drift = GeneratorConfig(leads_per_week=300, scenario="covariate-drift", drift_week=3)
    pd.testing.assert_frame_equal(generate_week(before_drift, 2)[0], short_leads)


def test_files_follow_the_contract_and_outcomes_arrive_in_their_week(
    tmp_path: Path, contract: Contract
) -> None:
    config = GeneratorConfig(weeks=4, leads_per_week=500)
    paths = write_dataset(config, tmp_path)
    leads = pd.concat([pd.read_csv(p) for p in sorted((tmp_path / "leads").glob("*.csv"))])
    outcome_files = sorted((tmp_path / "outcomes").glob("outcomes_week_*.csv"))
    assert len(outcome_files) == 4 + math.ceil(contract.outcome_window_days / 7) and set(
        paths
    ) == set((tmp_path).glob("*/*.csv"))
    assert list(leads.columns) == contract.lead_columns
    assert leads[contract.entity_id].is_unique and len(leads) == 4 * 500
    created = pd.to_datetime(leads.set_index(contract.entity_id)[contract.event_time])
    for week, path in enumerate(outcome_files, start=1):
        rows = pd.read_csv(path, parse_dates=[contract.label_time])
        assert list(rows.columns) == contract.outcome_columns
        arrival_week = (rows[contract.label_time] - pd.Timestamp(config.start)).dt.days // 7 + 1
        assert (arrival_week == week).all(), path.name
        delay = rows[contract.label_time] - created.loc[rows[contract.entity_id]].to_numpy()
        assert (delay > pd.Timedelta(0)).all()
        assert (delay < pd.Timedelta(days=contract.outcome_window_days)).all()
    _, outcomes = generate(config)
    assert sum(len(pd.read_csv(p)) for p in outcome_files) == len(outcomes)
    # Some leads never get an outcome row: they count as lost once the window passes.
    assert 0.2 < 1 - len(outcomes) / len(leads) < 0.5


@pytest.mark.slow
def test_a_model_trained_on_stable_weeks_is_good_but_not_perfect(
    stable: pd.DataFrame, contract: Contract
) -> None:
    assert 0.10 <= stable["y"].mean() <= 0.15
    auc = holdout_auc(stable[stable.week <= 6], stable[stable.week.isin([7, 8])], contract)
    assert 0.75 <= auc <= 0.90


def _shifted_features(frame: pd.DataFrame, contract: Contract, drift_week: int) -> dict[str, float]:
    """PSI of every numeric/categorical feature, and largest technology share change."""
    before, after = frame[frame.week < drift_week], frame[frame.week >= drift_week]
    shifts = {
        c: psi(before[c].to_numpy(float), after[c].to_numpy(float))
        for c in contract.by_role("numeric")
    }
    shifts |= {c: category_psi(before[c], after[c]) for c in contract.by_role("categorical")}
    for column in contract.by_role("multi_valued"):
        members = encode(frame, contract).filter(like=f"{column}=")
        share = members.groupby(frame.week >= drift_week).mean()
        shifts[column] = float((share.loc[True] - share.loc[False]).abs().max())
    return shifts


@pytest.mark.slow
def test_covariate_drift_moves_several_features_and_stable_moves_none(
    stable: pd.DataFrame, drifted: pd.DataFrame, contract: Contract
) -> None:
    shifts = _shifted_features(drifted, contract, drift_week=9)
    assert max(shifts["company_size"], shifts["lead_source"]) > 0.25, shifts
    assert sum(value > 0.1 for value in shifts.values()) >= 3, shifts
    assert max(_shifted_features(stable, contract, drift_week=9).values()) < 0.1


@pytest.mark.slow
def test_a_model_retrained_after_covariate_drift_beats_the_old_champion(
    drifted: pd.DataFrame, contract: Contract
) -> None:
    recent = drifted[drifted.week >= 11]
    champion = holdout_auc(drifted[drifted.week <= 8], recent, contract)
    challenger = holdout_auc(drifted[drifted.week.isin([9, 10])], recent, contract)
    assert challenger >= 1.02 * champion, (champion, challenger)
    before, after = drifted[drifted.week < 9]["y"].mean(), drifted[drifted.week >= 9]["y"].mean()
    assert after == pytest.approx(before, rel=0.25)


def test_conversion_drop_keeps_the_leads_and_cuts_the_rate(contract: Contract) -> None:
    config = GeneratorConfig(weeks=8, leads_per_week=2000, scenario="conversion-drop", drift_week=5)
    frame = labelled(config, contract)
    stable_leads, _ = generate(replace(config, scenario="stable"))
    pd.testing.assert_frame_equal(frame[stable_leads.columns], stable_leads)
    before, after = frame[frame.week < 5]["y"].mean(), frame[frame.week >= 5]["y"].mean()
    assert after <= 0.8 * before, (before, after)


def test_defects_break_only_the_chosen_rows_and_leave_outcomes_alone() -> None:
    from app.demo import synthetic

    clean_config = synthetic.GeneratorConfig(weeks=1, leads_per_week=1000)
    dirty_config = synthetic.GeneratorConfig(weeks=1, leads_per_week=1000, defect_share=0.01)
    clean, clean_outcomes = synthetic.generate_week(clean_config, 1)
    dirty, dirty_outcomes = synthetic.generate_week(dirty_config, 1)
    pd.testing.assert_frame_equal(clean_outcomes, dirty_outcomes)
    changed = (clean.astype(str) != dirty.astype(str)).any(axis=1)
    assert changed.sum() == 10
    assert (dirty["company_size"].astype(str) == "-12").sum() == 2


def test_exports_of_other_weeks_or_prefixes_never_reuse_a_lead_id() -> None:
    from datetime import date

    first = generate(GeneratorConfig(weeks=2, leads_per_week=50))[0]["lead_id"]
    later = generate(GeneratorConfig(weeks=2, leads_per_week=50, start=date(2026, 1, 19)))[0]
    other = generate(GeneratorConfig(weeks=2, leads_per_week=50, id_prefix="B"))[0]
    assert first.is_unique and len(first) == 100
    assert not set(first) & set(later["lead_id"]) and not set(first) & set(other["lead_id"])
    assert first.iloc[0] == "L202602-000001"  # <prefix><ISO year and week>-<n>


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """40 weeks of the real-history scenario, each lead joined with its won/lost row."""
    config = GeneratorConfig(weeks=40, leads_per_week=2000, scenario="real-history")
    leads, outcomes = generate(config)
    merged = leads.merge(outcomes, on="lead_id", how="left", validate="one_to_one")
    merged["week"] = (merged["created_at"] - pd.Timestamp(config.start)).dt.days // 7 + 1
    return merged


def test_real_history_conversion_rises_while_volume_falls(history: pd.DataFrame) -> None:
    first, last = history[history.week <= 4], history[history.week >= 37]
    assert len(first) / len(last) == pytest.approx(17, rel=0.2)  # ~20x from week 1 to 40
    first_rate, last_rate = first["converted"].mean(), last["converted"].mean()
    assert first_rate < 0.07 and 0.25 < last_rate < 0.55, (first_rate, last_rate)
    assert last_rate / first_rate >= 5


def test_real_history_gains_channels_and_a_count_that_starts_constant(
    history: pd.DataFrame,
) -> None:
    early, late = history[history.week <= 8], history[history.week >= 30]
    assert set(early["contact_channel"]) == {"email", "phone", "web_form"}
    assert {"chat", "linkedin"} <= set(late["contact_channel"])
    assert (early["previous_contacts"] == 0).all()
    assert late["previous_contacts"].mean() > 2 and late["previous_contacts"].max() >= 8


def test_real_history_decides_every_lead_within_days(history: pd.DataFrame) -> None:
    # Real CRMs close leads explicitly: every lead has a won or lost row, most in 2-5 days.
    assert history["converted"].notna().all()
    days = (history["converted_at"] - history["created_at"]).dt.total_seconds() / 86_400
    assert days.between(2, 5).mean() > 0.6 and days.max() < 7 and days.min() > 0


def test_real_history_files_ingest_with_its_contract(tmp_path: Path, settings, lake) -> None:
    from app.demo import crm_history
    from leadops.storage import tables
    from tasks.ingest import ingest_files
    from tests.support.ingest import silver

    config = GeneratorConfig(weeks=12, leads_per_week=150, scenario="real-history")
    write_dataset(config, tmp_path / "export")
    history_contract = load_contract(crm_history.CONTRACT)
    as_of = pd.Timestamp(config.start, tz="UTC") + pd.Timedelta(weeks=14)
    for kind in tables.KINDS:
        result = ingest_files(
            settings, lake, history_contract, [tmp_path / "export" / kind], kind=kind, as_of=as_of
        )
        assert result.total("quarantined") == 0, result.failed_expectations
    leads = silver(lake, "leads")
    assert len(leads) == len(generate(config)[0])
    assert pd.api.types.is_numeric_dtype(leads["previous_contacts"])
    assert leads["previous_contacts"].max() > 0 and leads["contact_channel"].nunique() == 5


def test_won_deals_carry_a_heavy_tailed_amount_whose_true_mean_is_known() -> None:
    from app.demo import deal_value

    config = GeneratorConfig(weeks=2, leads_per_week=3000, defect_share=0.0)
    leads, outcomes = generate(config)
    assert outcomes.equals(generate(config)[1])  # deterministic by seed
    won = outcomes[outcomes["converted"]].merge(leads, on="lead_id")
    lost = outcomes[~outcomes["converted"]]
    assert lost[deal_value.DEAL_COLUMN].isna().all() and (won[deal_value.DEAL_COLUMN] > 0).all()
    amounts, truth = won[deal_value.DEAL_COLUMN], deal_value.expected_value(won)
    assert amounts.mean() > 1.5 * amounts.median()  # heavy right tail
    # The known E[value | won] is the mean the draws have (within 10% over ~700 deals)...
    assert abs(amounts.mean() / truth.mean() - 1) < 0.1
    # ...and it varies with the lead: the top truth quartile's deals are far larger.
    top = truth >= np.quantile(truth, 0.75)
    assert amounts[top].mean() > 2 * amounts[~top].mean()


def test_deal_amounts_ingest_into_silver_outcomes_with_the_bundled_contract(
    tmp_path: Path, settings, lake, contract: Contract
) -> None:
    from tasks.ingest import ingest_files
    from tests.support.ingest import silver

    config = GeneratorConfig(weeks=2, leads_per_week=200, defect_share=0.0)
    write_dataset(config, tmp_path / "export")
    as_of = pd.Timestamp(config.start, tz="UTC") + pd.Timedelta(weeks=4)
    result = ingest_files(
        settings, lake, contract, [tmp_path / "export" / "outcomes"], kind="outcomes", as_of=as_of
    )
    assert result.total("quarantined") == 0, result.failed_expectations
    outcomes = silver(lake, "outcomes")
    won = outcomes[outcomes["converted"].astype(bool)]
    assert pd.api.types.is_float_dtype(outcomes["deal_amount"])
    assert (
        won["deal_amount"].gt(0).all()
        and outcomes.loc[won.index.symmetric_difference(outcomes.index), "deal_amount"].isna().all()
    )
