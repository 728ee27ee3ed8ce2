"""The demo and its synthetic CRM: weekly leads, outcomes, deal values, the timeline picture."""
