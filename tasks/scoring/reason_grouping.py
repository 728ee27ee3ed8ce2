"""How a served model's encoded columns read as reasons: shared by the conversion and the
deal-value models the score stage serves (both explain by the same encoder grouping)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np


class ReasonGrouping:
    """``reason_units`` and ``reason_matrix`` of a model that has an ``encoder``."""

    encoder: Any

    @cached_property
    def reason_units(self) -> list[Any]:
        """How this model's encoded columns read as reasons (the model's ``explain`` grouping)."""
        # Imported here: only runs that explain pay for the reasons module.
        from tasks.features.reasons import reason_units

        return reason_units(self.encoder)

    @cached_property
    def reason_matrix(self) -> np.ndarray:
        """(encoded columns × reason units) 0/1 matrix that sums contributions per reason."""
        from tasks.features.reasons import unit_matrix

        return unit_matrix(self.reason_units, len(self.encoder.feature_names))
