"""Evidence for a rollout step, read from the prediction log and matured outcomes.

Both models score every lead while a challenger is in shadow or canary, so each
lead of the step has a champion score and a challenger score (``paired_scores``).
Comparisons on the same leads are far less noisy than comparisons across arms;
the arms themselves are compared only on what differs between them: which
leads sales worked (the conversion among each arm's top-scored leads).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from leadops.clock import utc
from leadops.decisions import gate_evidence
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL, label_matured, outcome_watermark
from leadops.logs import prediction_log as plog
from leadops.models.model_state import CANARY_ARM
from leadops.storage.lake import Lake
from leadops.storage.tables import PREDICTION_LOG, silver

CHAMPION_SCORE, CHALLENGER_SCORE = "champion_score", "challenger_score"
MATURED = "matured"
SERVED_SCORE = "served_score"
GATE_ARM = "gate"  # the arm of rows that come from the gate's test window


def read_step_log(
    lake: Lake, champion: str, challenger: str, since: datetime | None
) -> pd.DataFrame:
    """Prediction-log rows of the two versions scored at or after ``since``."""
    filters = [(plog.MODEL_VERSION, "in", [str(champion), str(challenger)])]
    if since is not None:
        filters.append((plog.SCORED_AT, ">=", pd.Timestamp(since)))
    columns = [
        plog.ENTITY_ID,
        plog.EVENT_TIME,
        plog.SCORED_AT,
        plog.MODEL_VERSION,
        plog.ARM,
        plog.SERVED,
        plog.SCORE,
    ]
    return lake.read_table(PREDICTION_LOG, columns=columns, filters=filters)


def read_outcomes(lake: Lake, contract: Contract) -> pd.DataFrame:
    """Silver outcomes: id, label, label time."""
    return lake.read_table(silver("outcomes"), columns=contract.label_columns)


def paired_scores(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    contract: Contract,
    champion: str,
    challenger: str,
    as_of: datetime,
) -> pd.DataFrame:
    """One row per lead scored by both versions: both scores, the arm, the served score, the label.

    A lead scored more than once keeps its latest scores. ``matured`` marks leads
    whose outcome window has closed by ``as_of`` and by the outcome watermark (the
    latest outcome ingested); only they carry a label.
    """
    columns = [
        contract.entity_id,
        contract.event_time,
        "arm",
        CHAMPION_SCORE,
        CHALLENGER_SCORE,
        SERVED_SCORE,
        MATURED,
        LABEL,
    ]
    if log.empty:
        return pd.DataFrame(columns=columns)
    latest = log.sort_values(plog.SCORED_AT).drop_duplicates(
        [plog.ENTITY_ID, plog.MODEL_VERSION], keep="last"
    )
    by_model = {
        version: latest[latest[plog.MODEL_VERSION] == str(version)].set_index(plog.ENTITY_ID)
        for version in (champion, challenger)
    }
    both = by_model[champion].index.intersection(by_model[challenger].index)
    champ, chall = by_model[champion].loc[both], by_model[challenger].loc[both]
    frame = pd.DataFrame(
        {
            contract.entity_id: both.astype(str),
            contract.event_time: pd.to_datetime(champ[plog.EVENT_TIME], utc=True).to_numpy(),
            "arm": chall[plog.ARM].to_numpy(),
            CHAMPION_SCORE: champ[plog.SCORE].to_numpy(dtype="float64"),
            CHALLENGER_SCORE: chall[plog.SCORE].to_numpy(dtype="float64"),
        }
    )
    frame[SERVED_SCORE] = np.where(
        chall[plog.SERVED].to_numpy(dtype=bool), frame[CHALLENGER_SCORE], frame[CHAMPION_SCORE]
    )
    outcome = outcomes.copy()
    outcome[contract.entity_id] = outcome[contract.entity_id].astype(str)
    frame = frame.merge(
        outcome.drop_duplicates(contract.entity_id, keep="last"), on=contract.entity_id, how="left"
    )
    watermark = outcome_watermark(outcomes, contract)
    matured = label_matured(frame, contract, as_of, watermark=watermark)[
        [contract.entity_id, LABEL]
    ]
    frame = frame.drop(columns=[contract.label, contract.label_time]).merge(
        matured, on=contract.entity_id, how="left"
    )
    frame[MATURED] = frame[LABEL].notna()
    return frame[columns]


# Run tags the train stage writes (flows/train.py): where its training data ended.
DATA_END_TAG, AS_OF_TAG = "leadops.data_end", "leadops.as_of"


def training_data_end(
    client: Any, name: str, version: str, outcome_window_days: int
) -> datetime | None:
    """When the version's training data (its gate test window included) ended.

    ``leadops.data_end`` on the version or its run; else the run's ``leadops.as_of``
    minus the outcome window (no lead younger than that was matured, so none was
    trained or tested on). None when the version records neither.
    """
    model_version = client.get_model_version(name, str(version))
    tags = dict(model_version.tags or {})
    if model_version.run_id:
        run = client.get_run(model_version.run_id)
        tags = {**run.data.params, **run.data.tags, **tags}
    if tags.get(DATA_END_TAG) not in (None, "", "None"):
        return utc(datetime.fromisoformat(tags[DATA_END_TAG]))
    if tags.get(AS_OF_TAG) not in (None, "", "None"):
        as_of = utc(datetime.fromisoformat(tags[AS_OF_TAG]))
        return as_of - timedelta(days=outcome_window_days)
    return None


def created_after(
    paired: pd.DataFrame, contract: Contract, data_end: datetime | None
) -> pd.DataFrame:
    """Only leads created after ``data_end``: a model is never judged on leads it saw."""
    if data_end is None or paired.empty:
        return paired
    created = pd.to_datetime(paired[contract.event_time], utc=True)
    return paired[created > pd.Timestamp(data_end)]


def scoring_errors(log: pd.DataFrame, challenger: str) -> int:
    """Challenger rows whose score is not a probability (NaN, infinite, outside [0, 1])."""
    scores = log.loc[log[plog.MODEL_VERSION] == str(challenger), plog.SCORE].to_numpy(
        dtype="float64"
    )
    return int((~np.isfinite(scores) | (scores < 0) | (scores > 1)).sum())


def unserved_canary_leads(log: pd.DataFrame, challenger: str) -> int:
    """Leads routed to the canary arm with no served challenger score (a scoring failure)."""
    canary = log[(log[plog.MODEL_VERSION] == str(challenger)) & (log[plog.ARM] == CANARY_ARM)]
    served = canary.groupby(plog.ENTITY_ID)[plog.SERVED].any()
    return int((~served).sum())


def with_gate_rows(
    paired: pd.DataFrame, gate_rows: pd.DataFrame | None, contract: Contract
) -> pd.DataFrame:
    """The step's paired leads plus the gate's test rows (matured, arm "gate").

    The step's own leads were created after the challenger's data ended, the gate's
    before: no lead counts twice; an id in both keeps the step's row.
    """
    if gate_rows is None or gate_rows.empty:
        return paired
    rows = gate_rows[~gate_rows[gate_evidence.ENTITY_ID].isin(paired[contract.entity_id])]
    extra = pd.DataFrame(
        {
            contract.entity_id: rows[gate_evidence.ENTITY_ID].astype(str).to_numpy(),
            contract.event_time: pd.to_datetime(rows[gate_evidence.EVENT_TIME], utc=True),
            "arm": GATE_ARM,
            CHAMPION_SCORE: rows[gate_evidence.CHAMPION_SCORE].to_numpy(dtype="float64"),
            CHALLENGER_SCORE: rows[gate_evidence.CHALLENGER_SCORE].to_numpy(dtype="float64"),
            SERVED_SCORE: rows[gate_evidence.CHAMPION_SCORE].to_numpy(dtype="float64"),
            MATURED: True,
            LABEL: rows[gate_evidence.LABEL].to_numpy(dtype="float64"),
        }
    )
    if paired.empty:
        return extra.reset_index(drop=True)
    return pd.concat([paired, extra], ignore_index=True)
