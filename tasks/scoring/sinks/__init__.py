"""Score sinks: every scored batch delivered where sales works (the CRM's PostgreSQL, a
webhook), part by part, journaled so a killed delivery resumes without sending twice.

The scores themselves stay in the lake (``<lake>/scores/<batch_id>.parquet``); the lake's
``delivery/ledger`` says which batch each sink still owes (``leadops deliver`` sends them).
"""
