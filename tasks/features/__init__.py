"""Features shared by training and scoring by design: row-wise features (``rows``), the
fitted encoder saved inside the model (``encoder``) and the reason texts (``reasons``).

The row-wise functions are re-exported here so ``from tasks import features as F`` reads
as before.
"""

from __future__ import annotations

from tasks.features.encoder import FeatureEncoder
from tasks.features.rows import (
    DATE_PARTS,
    EMAIL_DOMAIN_TYPES,
    FREE_EMAIL_DOMAINS,
    SENIORITY_LEVELS,
    date_parts,
    email_domain_type,
    engagement_ratio,
    multi_valued_items,
    ratio_pairs,
    title_seniority,
)

__all__ = [
    "DATE_PARTS",
    "EMAIL_DOMAIN_TYPES",
    "FREE_EMAIL_DOMAINS",
    "SENIORITY_LEVELS",
    "FeatureEncoder",
    "date_parts",
    "email_domain_type",
    "engagement_ratio",
    "multi_valued_items",
    "ratio_pairs",
    "title_seniority",
]
