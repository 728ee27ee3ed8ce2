"""Naming a CRM database as SOURCE: which table, and never a password in what travels on."""

from __future__ import annotations

import pytest

from leadops.errors import LeadOpsError
from leadops.inputs.db_connect import redacted
from leadops.inputs.db_source import database_source

TABLES = {"leads": "crm.leads", "outcomes": "crm.deals"}


def test_a_url_holding_a_password_is_refused_without_repeating_it() -> None:
    with pytest.raises(LeadOpsError) as error:
        database_source("postgresql://sales:hunter2@db:5432/crm", "leads", TABLES)
    message = str(error.value)
    assert "hunter2" not in message and "LEADOPS_CRM_PASSWORD" in message
    assert message.startswith("postgresql://sales@db:5432/crm:")


def test_the_table_comes_from_the_fragment_else_from_the_settings_of_the_kind() -> None:
    assert database_source("postgresql://sales@db/crm", "outcomes", TABLES).relation == "crm.deals"
    picked = database_source("postgresql://sales@db/crm#public.leads_v2", "leads", TABLES)
    assert (picked.url, picked.relation) == ("postgresql://sales@db/crm", "public.leads_v2")
    assert picked.uri == "postgresql://sales@db/crm#public.leads_v2"


def test_a_query_source_is_named_by_a_digest_not_its_text() -> None:
    query = "SELECT * FROM leads WHERE region = 'EU'"
    source = database_source(f"postgresql://sales@db/crm#{query}", "leads", TABLES)
    assert source.is_query and query not in source.uri and source.uri.startswith("postgresql://")


def test_redacted_keeps_user_host_port_and_database() -> None:
    assert redacted("postgresql://u:p%40ss@h:6543/crm") == "postgresql://u@h:6543/crm"


def test_ingest_of_a_database_without_updated_at_in_the_contract_fails_before_prefect(
    settings, capsys, monkeypatch
) -> None:
    from app.cli import main as cli

    def no_prefect() -> None:
        raise AssertionError("the flow runtime was started")

    monkeypatch.setattr("app.cli.runtime.prepare_runtime", no_prefect)
    monkeypatch.setattr("sys.argv", ["leadops", "ingest", "postgresql://sales@db/crm"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.splitlines()) == 1
    assert "names no updated_at column" in err and "add `updated_at: <column>`" in err
