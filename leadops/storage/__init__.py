"""The lake (a local folder or S3), its table names, locks and all-or-nothing writes."""
