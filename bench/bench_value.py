"""Revenue captured in the top 10% of leads: ranked by expected value vs by probability.

On the generator (known deal amounts), a conversion classifier and the deal-value model
are trained on the first weeks; on the later weeks leads are ranked by P(convert) alone
and by P x E[value | won]. Each ranking's realised revenue in its top 10% is printed as a
share of the oracle (the top 10% by realised revenue), with a bootstrap 95% interval of
the difference (leads resampled). --json prints one object on its last line.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

from app.demo import deal_value
from app.demo.synthetic import GeneratorConfig, generate
from tasks.training.value import search_value


def _rows(frame: pd.DataFrame) -> np.ndarray:
    dummies = pd.get_dummies(frame[["industry", "lead_source", "country"]].astype("category"))
    numeric = frame[["company_size", "page_views", "email_opens", "form_fills"]]
    return pd.concat([dummies, np.log1p(numeric)], axis=1).to_numpy(dtype=float)


def _top_share(revenue: np.ndarray, ranking: np.ndarray, k: int) -> float:
    return float(revenue[np.argsort(-ranking, kind="stable")[:k]].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer leads and trials")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weeks, per_week, trials = (8, 1500, 3) if args.quick else (12, 3000, 6)
    leads, outcomes = generate(GeneratorConfig(weeks=weeks, leads_per_week=per_week))
    frame = leads.merge(outcomes, on="lead_id", how="left").sort_values("created_at")
    frame = frame[pd.to_numeric(frame["company_size"], errors="coerce").gt(0)]
    frame = frame.astype({"company_size": float, "page_views": float}, errors="ignore")
    frame = frame[
        frame[["page_views", "email_opens", "form_fills"]]
        .apply(pd.to_numeric, errors="coerce")
        .notna()
        .all(axis=1)
    ].reset_index(drop=True)
    rows, won = _rows(frame), frame["converted"].eq(True).to_numpy()
    revenue = np.where(won, frame[deal_value.DEAL_COLUMN].fillna(0).to_numpy(), 0.0)
    cut = int(len(frame) * 0.6)
    clf = XGBClassifier(n_estimators=200, max_depth=4, learning_rate=0.1, n_jobs=1)
    clf.fit(rows[:cut], won[:cut])
    train_won = np.flatnonzero(won[:cut])
    value = search_value(rows[train_won], revenue[train_won], trials=trials, seed=0)
    p, v = clf.predict_proba(rows[cut:])[:, 1], value.predict(rows[cut:])
    test_revenue = revenue[cut:]
    k = len(p) // 10
    rng = np.random.default_rng(0)
    shares, diffs = {}, []
    for draw in range(201):
        idx = np.arange(len(p)) if draw == 0 else rng.integers(0, len(p), len(p))
        oracle = _top_share(test_revenue[idx], test_revenue[idx], k)
        ev = _top_share(test_revenue[idx], p[idx] * v[idx], k) / oracle
        prob = _top_share(test_revenue[idx], p[idx], k) / oracle
        if draw == 0:
            shares = {"expected_value": round(ev, 4), "probability": round(prob, 4)}
        else:
            diffs.append(ev - prob)
    low, high = np.percentile(diffs, [2.5, 97.5])
    print(f"test leads {len(p)}, top 10% = {k}, won in test {int(won[cut:].sum())}")
    print(
        f"top-10% revenue as share of oracle: EV {shares['expected_value']:.3f}, "
        f"probability {shares['probability']:.3f}; difference 95% bootstrap "
        f"[{low:+.3f}, {high:+.3f}] (200 resamples of test leads)"
    )
    if args.json:
        print(
            json.dumps(
                {"top10_share_of_oracle": shares, "difference_ci": [round(low, 4), round(high, 4)]}
            )
        )


if __name__ == "__main__":
    main()
