"""Names of the lake's tables and files: the one place the layout is written down.

Tables are Delta tables under ``<lake>/tables/<name>``:

- ``bronze/<kind>``: every row as received, all values as strings, plus
  ``_source_file``, ``_row_number``, ``_ingested_at``, ``_file_checksum``, ``_run_id``.
- ``silver/<kind>``: typed, normalised, one row per entity id (latest wins).
  Leads: id string, event time timestamp (UTC), numerics float64, booleans bool,
  categoricals / email / text strings, multi-valued columns list<string>.
  Outcomes: id string, label bool, label time timestamp (UTC).
- ``quarantine/<kind>``: rejected rows as received plus ``_failed_expectations``.
- ``gold/leads``: silver leads left-joined with their outcome (label, label time):
  what training reads. Labels are *not* decided here; maturity depends on as-of.
- ``ingest/manifest``: one row per ingested file (checksum, status, counts).
- ``ingest/quarantine_log``: per ingest run and check, the rows in and the rows that
  check quarantined (see leadops.logs.quarantine_log): what the monitor watches.
- ``predictions/log``: every score any model gave any lead (served or shadow),
  one row per (lead, model version, batch). Columns: ``entity_id`` (string),
  ``event_time`` (lead's event time, UTC), ``batch_id``, ``scored_at`` (UTC, the
  run's as-of), ``model_name``, ``model_version`` (string), ``role``
  (champion|challenger), ``stage`` (production|shadow|canary), ``arm`` (the arm
  the lead is routed to: champion|canary), ``served`` (bool: this score was the
  one delivered), ``score`` (float64). Features are joined from silver by id.
- ``scored/file_leads``: the leads of batch files scored without being ingested
  (``leadops score FILE``), typed like silver, plus ``_batch_id``: where the monitor
  finds the features of a scored file's own leads.
- ``api/requests``: the online service's requests to the score route, one row per
  (request, arm): ``received_at``, ``request_id``, ``status``, ``latency_ms`` (until
  the answer was sent), ``arm`` (empty when no lead was answered) and ``leads`` (of
  that arm). What the monitor reads for serving health (see leadops.logs.request_log).
"""

from __future__ import annotations

KINDS = ("leads", "outcomes")

MANIFEST = "ingest/manifest"
QUARANTINE_LOG = "ingest/quarantine_log"
# Per database source and kind, the newest "changed at" value each committed pull read.
WATERMARKS = "ingest/watermarks"
# What each score sink owes and acknowledged (tasks/scoring/sinks/ledger.py).
DELIVERY_LEDGER = "delivery/ledger"
GOLD_LEADS = "gold/leads"
PREDICTION_LOG = "predictions/log"
API_REQUESTS = "api/requests"
SCORED_FILE_LEADS = "scored/file_leads"
BATCH_ID = "_batch_id"


def bronze(kind: str) -> str:
    return f"bronze/{kind}"


def silver(kind: str) -> str:
    return f"silver/{kind}"


def quarantine(kind: str) -> str:
    return f"quarantine/{kind}"


# Bookkeeping columns added by ingestion; never features.
SOURCE_FILE = "_source_file"
ROW_NUMBER = "_row_number"
INGESTED_AT = "_ingested_at"
FILE_CHECKSUM = "_file_checksum"
RUN_ID = "_run_id"
FAILED_EXPECTATIONS = "_failed_expectations"

# Files (not tables) under the lake root.
INGEST_REPORTS = "reports/ingest"
DRIFT_REPORTS = "reports/drift"
SCORES = "scores"
