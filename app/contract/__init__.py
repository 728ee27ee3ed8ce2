"""Setting LeadOps up for a CRM export: infer, check and widen a data contract."""
