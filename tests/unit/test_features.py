"""Row-wise lead features and the fitted encoder (what training and scoring share)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.normalise import parse_frame, unparsed_flag
from leadops.settings import BUNDLED_CONTRACT
from tasks import features as F
from tasks.features.encoder import OTHER, FeatureEncoder
from tests.support.gold import typed_leads

CONTRACT = load_contract(BUNDLED_CONTRACT)


def test_email_domain_types() -> None:
    emails = [
        "ana@gmail.com",
        "Bob@Acme-Labs.COM",
        "c@mit.edu",
        "d@ox.ac.uk",
        "no-at-sign",
        "@nolocal.com",
        "two@@ats.com",
        "e@nodot",
        None,
        " f@yahoo.com ",
    ]
    assert list(F.email_domain_type(emails)) == [
        "free",
        "corporate",
        "edu",
        "edu",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "free",
    ]


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "c_level"),
        ("Chief Revenue Officer", "c_level"),
        ("Co-Founder", "c_level"),
        ("VP of Sales", "vp"),
        ("Vice President, Marketing", "vp"),
        ("Director of Growth", "director"),
        ("Head of Data", "director"),
        ("Account Manager", "manager"),
        ("Senior Data Engineer", "senior"),
        ("Sr. Analyst", "senior"),
        ("Software Engineer", "ic"),
        ("Marketing Intern", "intern"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_title_seniority(title: str | None, level: str) -> None:
    assert F.title_seniority([title])[0] == level


def test_date_parts_are_utc_weekday_hour_month() -> None:
    parts = F.date_parts(
        pd.Series(["2026-01-05T23:30:00+00:00", "2026-03-01T01:00:00-05:00", None])
    )
    assert parts["weekday"][:2].tolist() == [0.0, 6.0]  # Monday; Sunday 06:00 UTC
    assert parts["hour"][:2].tolist() == [23.0, 6.0]
    assert parts["month"][:2].tolist() == [1.0, 3.0]
    assert np.isnan(parts["weekday"][2])


def test_engagement_ratio_stays_finite_without_page_views() -> None:
    ratio = F.engagement_ratio(pd.Series([4.0, 3.0, None]), pd.Series([3.0, 0.0, 2.0]))
    assert ratio[:2].tolist() == [1.0, 3.0]
    assert np.isnan(ratio[2])


def test_ratio_pairs_skip_columns_the_contract_lacks() -> None:
    assert F.ratio_pairs(["email_opens", "page_views"]) == [("email_opens", "page_views")]
    assert F.ratio_pairs(["amount"]) == []


def test_multi_valued_items_accept_lists_json_and_delimited_strings() -> None:
    rows, items = F.multi_valued_items(
        [["AWS", "Slack"], '["Salesforce"]', "HubSpot; Stripe", None, [], " "]
    )
    assert rows.tolist() == [0, 0, 1, 2, 2]
    assert items.tolist() == ["AWS", "Slack", "Salesforce", "HubSpot", "Stripe"]


# Cells as CRM exports carry them: well-formed, and malformed ones ingest quarantines.
TECH_CELLS = [
    '["Salesforce","HubSpot"]',
    "[]",
    "[null, 7]",
    "Salesforce|HubSpot",
    "AWS ; Slack",
    "Salesforce,HubSpot,Slack",
    " Slack ",
    '["Salesforce", "Hub',
    '{"a": 1}',
    '[["nested"]]',
    "Slack||AWS",
    '"Slack", "AWS"',
    "Slack|",
    "AWS,,Slack",
    '[""]',
]


def test_ingest_and_features_split_the_same_cells_identically() -> None:
    raw = pd.DataFrame({"technographics": TECH_CELLS}, index=pd.RangeIndex(1, len(TECH_CELLS) + 1))
    typed = parse_frame(raw, {"technographics": "multi_valued"})
    rows, items = F.multi_valued_items(TECH_CELLS)
    for row, (cell, flagged) in enumerate(
        zip(TECH_CELLS, typed[unparsed_flag("technographics")], strict=True)
    ):
        in_silver = [] if flagged else list(typed["technographics"].iloc[row])
        assert items[rows == row].tolist() == in_silver, cell
    quarantined = [
        cell
        for cell, flagged in zip(TECH_CELLS, typed[unparsed_flag("technographics")], strict=True)
        if flagged
    ]
    assert quarantined == TECH_CELLS[7:]  # the malformed ones: no items in features either
    assert items[rows == 2].tolist() == ["7"]


def _frame() -> pd.DataFrame:
    raw = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "created_at": [
                "2026-01-05T10:00:00",
                "2026-01-06T11:00:00",
                "2026-01-07T12:00:00",
                "2026-01-08T13:00:00",
            ],
            "lead_source": ["web", "web", "referral", "events"],
            "industry": ["software"] * 4,
            "country": ["US", "US", "DE", "GB"],
            "company_size": [10, 200, 50, 5],
            "annual_revenue": [1e6, 2e7, 5e6, 1e5],
            "page_views": [3, 0, 9, 1],
            "email_opens": [3, 1, 0, 2],
            "form_fills": [1, 0, 2, 0],
            "webinars_attended": [0, 1, 0, 0],
            "days_since_last_activity": [1, 5, 9, 30],
            "legacy_lead_score": [50, 20, 70, 10],
            "marketing_opt_in": [True, False, True, False],
            "technographics": ['["Salesforce","AWS"]', '["AWS"]', '["AWS","Rare"]', "[]"],
            "email": ["a@gmail.com", "b@acme.com", "c@mit.edu", "bad"],
            "job_title": ["VP of Sales", "Software Engineer", "CEO", "Marketing Intern"],
        }
    )
    return typed_leads(raw, CONTRACT)


def test_encoder_caps_technographics_into_other_bucket() -> None:
    encoder = FeatureEncoder.fit(_frame(), CONTRACT, cap=2)
    tech = [n for n in encoder.feature_names if n.startswith("technographics=")]
    assert tech == ["technographics=AWS", "technographics=Rare", f"technographics={OTHER}"]
    encoded = pd.DataFrame(encoder.transform(_frame()), columns=encoder.feature_names)
    assert encoded[f"technographics={OTHER}"].tolist() == [
        1.0,
        0.0,
        0.0,
        0.0,
    ]  # Salesforce fell off the cap
    assert encoded["technographics=AWS"].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_encoder_tolerates_unseen_missing_values_and_absent_columns() -> None:
    encoder = FeatureEncoder.fit(_frame(), CONTRACT, cap=5)
    new = _frame().head(2).copy()
    new.loc[0, "lead_source"] = "tradeshow"  # never seen in training
    new.loc[1, "lead_source"] = None
    new = new.drop(columns=["country", "technographics"])
    encoded = pd.DataFrame(encoder.transform(new), columns=encoder.feature_names)
    source = [n for n in encoder.feature_names if n.startswith("lead_source=")]
    assert encoded.loc[0, source].to_dict() == {
        **{n: 0.0 for n in source},
        f"lead_source={OTHER}": 1.0,
    }
    assert encoded.loc[1, source].sum() == 0.0  # missing lights nothing
    assert encoded.filter(like="country=").to_numpy().sum() == 0.0


def test_encoder_output_is_float32_and_row_aligned() -> None:
    frame = _frame()
    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=5)
    encoded = encoder.transform(frame)
    assert encoded.dtype == np.float32 and encoded.shape == (4, len(encoder.feature_names))
    row = dict(zip(encoder.feature_names, encoded[2], strict=True))
    assert row["email:domain=edu"] == 1.0 and row["job_title:seniority=c_level"] == 1.0
    assert row["lead_source=referral"] == 1.0 and row["marketing_opt_in"] == 1.0
    assert row["created_at:weekday"] == 2.0 and row["page_views"] == 9.0
    assert row["email_opens_per_page_views"] == 0.0


def test_reason_labels_map_columns_back_to_people_words() -> None:
    encoder = FeatureEncoder.fit(_frame(), CONTRACT, cap=5)
    labels = encoder.reason_labels
    assert labels[("technographics", "AWS")] == "uses AWS"
    assert labels[("company_size", None)] == "company size"
    assert labels[("lead_source", "referral")] == "source is referral"
    assert labels[("email", "free")] == "free email domain"
    assert labels[("job_title", "vp")] == "VP job title"
    assert labels[("email_opens", "per page_views")] == "email opens per page view"
    assert encoder.group_of("technographics=AWS") == "technographics"
    assert encoder.group_of("job_title:seniority=vp") == "job_title"
    assert len(labels) == len(encoder.feature_names)


def test_encoder_round_trips_through_json() -> None:
    frame = _frame()
    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=5)
    again = FeatureEncoder.from_json(encoder.to_json())
    assert again.feature_names == encoder.feature_names
    np.testing.assert_array_equal(again.transform(frame), encoder.transform(frame))
    assert json.loads(encoder.to_json())["multi_valued"]["technographics"][0] == "AWS"


def test_encoder_is_importable_from_features_module() -> None:
    assert F.FeatureEncoder is FeatureEncoder
