"""The database ingests join the schedules only when a CRM database is configured."""

from __future__ import annotations

import pytest

from deployments.definitions import DEPLOYMENTS, active_specs, resolved_parameters
from leadops.errors import LeadOpsError

URL = "postgresql://leadops@crm-db:5432/crm"


def test_a_configured_crm_database_adds_scheduled_leads_and_outcomes_ingests() -> None:
    assert active_specs(None) == DEPLOYMENTS
    added = {s.name: s for s in active_specs(URL)[len(DEPLOYMENTS) :]}
    assert set(added) == {"ingest-crm-leads", "ingest-crm-outcomes"}
    for spec in added.values():
        assert spec.cron and spec.entrypoint == "flows/ingest.py:ingest"
    params = resolved_parameters(added["ingest-crm-outcomes"], "/landing", URL)
    assert params == {"source": URL, "kind": "outcomes"}


def test_a_crm_url_holding_a_password_is_never_made_a_deployment_parameter() -> None:
    with pytest.raises(LeadOpsError, match="LEADOPS_CRM_PASSWORD") as error:
        active_specs("postgresql://leadops:s3cret@crm-db/crm")
    assert "s3cret" not in str(error.value)
