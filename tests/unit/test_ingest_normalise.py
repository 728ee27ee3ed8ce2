"""Raw strings become typed silver values; what cannot be parsed is flagged, not guessed."""

from __future__ import annotations

import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.normalise import parse_frame, split_multi_valued, unparsed_flag
from leadops.settings import BUNDLED_CONTRACT

CONTRACT = load_contract(BUNDLED_CONTRACT)
ROLES = CONTRACT.roles("leads")


def parse(**columns: list) -> pd.DataFrame:
    raw = pd.DataFrame(columns)
    return parse_frame(raw.set_axis(pd.RangeIndex(1, len(raw) + 1)), ROLES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["Salesforce","HubSpot"]', ["Salesforce", "HubSpot"]),
        ("[]", []),
        ("Salesforce|HubSpot", ["Salesforce", "HubSpot"]),
        ("Salesforce; HubSpot", ["Salesforce", "HubSpot"]),
        ("Salesforce,HubSpot,Slack", ["Salesforce", "HubSpot", "Slack"]),
        ("Slack", ["Slack"]),
    ],
)
def test_technographics_accept_json_arrays_and_delimited_strings(
    text: str, expected: list[str]
) -> None:
    assert split_multi_valued(text) == expected


@pytest.mark.parametrize(
    "text",
    ['["Salesforce", "Hub', '{"a": 1}', '[["nested"]]', "Slack||AWS", '"Slack", "AWS"', "Slack|"],
)
def test_malformed_technographic_lists_are_rejected(text: str) -> None:
    assert split_multi_valued(text) is None


def test_values_are_trimmed_lowercased_and_typed() -> None:
    typed = parse(
        lead_id=[" L1 "],
        email=["  Anna.Smith@ACME.com "],
        lead_source=["  web "],
        company_size=[" 120 "],
        marketing_opt_in=[" Yes "],
        technographics=["AWS | Slack"],
        created_at=["2026-01-05T10:00:00+02:00"],
    )
    row = typed.iloc[0]
    assert row["lead_id"] == "L1" and row["lead_source"] == "web"
    assert row["email"] == "anna.smith@acme.com"
    assert row["company_size"] == 120.0
    assert typed["marketing_opt_in"].tolist() == [True]
    assert row["technographics"] == ["AWS", "Slack"]
    assert row["created_at"] == pd.Timestamp("2026-01-05T08:00:00", tz="UTC")


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("FALSE", False), ("yes", True), ("no", False), ("1", True), ("0", False)],
)
def test_booleans_from_common_spellings(word: str, value: bool) -> None:
    assert bool(parse(marketing_opt_in=[word])["marketing_opt_in"].iloc[0]) is value


def test_unparseable_values_become_null_with_a_marker() -> None:
    typed = parse(
        company_size=["abc", "12", None, "inf"],
        marketing_opt_in=["maybe", "no", None, "yes"],
        created_at=["soon", "2026-01-05", None, "01/05/2026"],
    )
    assert list(typed[unparsed_flag("company_size")]) == [True, False, False, True]
    assert list(typed[unparsed_flag("marketing_opt_in")]) == [True, False, False, False]
    assert list(typed[unparsed_flag("created_at")]) == [True, False, False, False]
    assert typed["company_size"].isna().tolist() == [True, False, True, True]
    # A spreadsheet-style date is still a date; "soon" is not.
    assert typed["created_at"].iloc[3] == pd.Timestamp("2026-01-05", tz="UTC")


def test_columns_missing_from_a_file_become_typed_nulls() -> None:
    typed = parse(lead_id=["L1"])
    assert typed["technographics"].iloc[0] is None
    assert typed["company_size"].dtype == "float64"
    assert str(typed["created_at"].dtype) == "datetime64[ns, UTC]"
    assert not typed[unparsed_flag("technographics")].iloc[0]


def test_blank_strings_are_missing_not_empty_text() -> None:
    typed = parse(job_title=["   "], industry=[""])
    assert typed["job_title"].iloc[0] is None and typed["industry"].iloc[0] is None


def test_formula_text_is_kept_verbatim_as_data() -> None:
    typed = parse(job_title=['=HYPERLINK("http://evil","x")'], industry=["+cmd|' /C calc'!A0"])
    assert typed["job_title"].iloc[0] == '=HYPERLINK("http://evil","x")'
    assert typed["industry"].iloc[0] == "+cmd|' /C calc'!A0"


def test_outcome_roles_come_from_the_contract() -> None:
    assert CONTRACT.roles("outcomes") == {
        CONTRACT.entity_id: "id",
        CONTRACT.label: "boolean",
        CONTRACT.label_time: "timestamp",
        CONTRACT.value: "numeric",  # the deal amount of a won lead (optional in a file)
    }


PLAIN_ISO = [
    "2026-01-05T00:00:04",
    "2026-01-05 10:00:00",
    "2026-01-05",
    "2026-01-05T10:00",
    "2026-01-05T10",
    "2026-01-05T10:00:00.123456",
    "2026-01-05T10:00:00.5",
    "1970-01-01",
    None,
]


def test_plain_iso_times_parsed_by_arrow_equal_pandas_iso8601() -> None:
    # The fast path takes a column only when Arrow parses every value; the times must
    # then be pandas' ISO8601 times, as UTC.
    typed = parse_frame(pd.DataFrame({"created_at": PLAIN_ISO}), {"created_at": "timestamp"})
    expected = pd.to_datetime(pd.Series(PLAIN_ISO), utc=True, format="ISO8601")
    assert typed["created_at"].tolist() == expected.tolist()
    assert not typed[unparsed_flag("created_at")].any()


@pytest.mark.parametrize(
    "other", ["2026-01-05T10:00:00Z", "2026-01-05T10:00:00+02:00", "2026-1-5", "2026-02-30"]
)
def test_one_time_arrow_refuses_sends_the_column_to_the_general_parser(other: str) -> None:
    values = [*PLAIN_ISO, other]
    typed = parse_frame(pd.DataFrame({"created_at": values}), {"created_at": "timestamp"})
    expected = pd.to_datetime(pd.Series(values), utc=True, format="ISO8601", errors="coerce")
    assert typed["created_at"].tolist()[:-1] == expected.tolist()[:-1]
    assert typed[unparsed_flag("created_at")].tolist()[-1] == pd.isna(expected.iloc[-1])
