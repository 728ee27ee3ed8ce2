"""The request model, built from the data contract when the service starts.

Another CRM's contract gives another API with no code change: one field per
contract column (required where the contract requires it), named exactly as the CRM
names it. Fields are declared under safe Python names with the column name as alias,
so a column called ``json`` or
``model_version`` cannot clash with pydantic's own attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    model_validator,
)

from leadops.inputs.contract import Contract
from leadops.inputs.lead_checks import value_problems
from leadops.inputs.normalise import split_multi_valued


def _id_text(value: Any) -> Any:
    # CRMs hand out numeric ids as often as text ones; both name the same lead.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _list_of_items(value: Any) -> Any:
    """A list stays a list; a string is read as batch reads it ("a|b", "a;b", JSON array)."""
    if isinstance(value, str):
        items = split_multi_valued(value.strip()) if value.strip() else None
        if items is None and value.strip():
            raise ValueError(f"{value!r} is not a list of items (use a JSON array or 'a|b')")
        return items
    return value


def _usable_id(value: str) -> str:
    # A blank id was scored as "None" and logged with a null id: two blank ids would collide.
    if not value.strip():
        raise ValueError("blank: a lead needs an id to be routed, logged and matched to outcomes")
    return value.strip()


# XGBoost reads features as float32: a finite float64 beyond its range (1e39) becomes inf,
# which its SHAP call refuses for the whole request.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _float32(value: float) -> float:
    if abs(value) > FLOAT32_MAX:
        raise ValueError(f"{value:g} is beyond the model's float32 range (+-{FLOAT32_MAX:.3g})")
    return value


EntityId = Annotated[str, BeforeValidator(_id_text), AfterValidator(_usable_id)]
Number = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_float32)]
Items = Annotated[list[str], BeforeValidator(_list_of_items)]
ROLE_TYPES: dict[str, Any] = {
    "numeric": Number,
    "boolean": bool,
    "categorical": str,
    "email": str,
    "text": str,
    "multi_valued": Items,
}


def field_names(contract: Contract) -> dict[str, str]:
    """Contract column → the Python name of its field in the request model."""
    columns = [contract.entity_id, contract.event_time, *contract.feature_names]
    return {column: f"c{i}" for i, column in enumerate(columns)}


# A CRM's clock may run a little ahead of ours: a creation time this far ahead still passes.
CLOCK_SKEW = timedelta(minutes=5)


def _checked(contract: Contract, column: str) -> AfterValidator:
    """The contract's value check of ``column`` (leadops.inputs.lead_checks, as batch scoring)."""

    def check(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            try:  # an offset at the calendar's ends (0001-01-01T00:00+05:00) leaves it in UTC
                value.astimezone(UTC)
            except OverflowError:
                raise ValueError(f"{value.isoformat()} is out of the date range in UTC") from None
        if value is not None:
            why = value_problems(contract, column, value, datetime.now(UTC) + CLOCK_SKEW)
            if why:
                raise ValueError(why)
        return value

    return AfterValidator(check)


class Unusable:
    """A feature value that fails the contract: scored as missing, its feature named degraded."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def _degradable(contract: Contract, column: str) -> WrapValidator:
    """Parse ``column`` by its role and check it (leadops.inputs.lead_checks, as batch scoring); a
    value that fails either is kept as :class:`Unusable` instead of refusing the lead."""

    def parse(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            parsed = handler(value)
        except ValidationError as failure:
            return Unusable(failure.errors()[0]["msg"])
        if parsed is None:
            return None
        why = value_problems(contract, column, parsed, datetime.now(UTC) + CLOCK_SKEW)
        return Unusable(why) if why else parsed

    return WrapValidator(parse)


class ContractLead(BaseModel):
    """What every contract's lead model shares: unknown fields kept aside (the response lists
    them as ignored) and the features scored as missing because they failed the contract."""

    model_config = ConfigDict(extra="allow", populate_by_name=False)
    _degraded: list[str] = PrivateAttr(default_factory=list)
    _features: ClassVar[dict[str, tuple[str, bool]]] = {}  # python name -> (column, required)

    @model_validator(mode="after")
    def _unusable_values_are_missing(self) -> ContractLead:
        for name, (column, required) in self._features.items():
            value = getattr(self, name)
            if isinstance(value, Unusable) or (value is None and required):
                self._degraded.append(column)
                if value is not None:
                    setattr(self, name, None)
        return self

    @property
    def degraded(self) -> list[str]:
        """Features this lead is scored without (contract order)."""
        return self._degraded


def _feature_text(contract: Contract, feature: Any) -> str:
    text = f"{feature.role} column of contract {contract.name}"
    if feature.min is not None or feature.max is not None:
        low = "" if feature.min is None else f"{feature.min:g} <= "
        high = "" if feature.max is None else f" <= {feature.max:g}"
        text += f"; the contract expects {low}value{high} (outside: scored as unknown, degraded)"
    if feature.required:
        text += "; required (scored as unknown and marked degraded when absent)"
    return text


def _contract_range(feature: Any) -> dict[str, float] | None:
    """The contract's min/max as ``x-contract-min`` / ``x-contract-max``.

    Not JSON-schema ``minimum``/``maximum``: the API accepts a value outside them (the lead
    is scored with that feature unknown and named degraded), and a schema constraint the
    API does not enforce would tell clients and schema-driven testers the opposite.
    """
    bounds = {"x-contract-min": feature.min, "x-contract-max": feature.max}
    return {k: v for k, v in bounds.items() if v is not None} or None


def lead_model(contract: Contract) -> type[BaseModel]:
    """One lead as the CRM sends it: the contract's columns; unknown fields kept aside.

    The id is required (routing and the log need it); the event time defaults to the
    time the request arrives and may not be later. Every feature is optional: one
    that is of the wrong type, outside the contract's min/max or (when the contract
    requires it) absent is scored as missing and named in the lead's ``degraded``
    list, as batch scoring does (leadops.inputs.lead_checks).
    """
    names = field_names(contract)
    fields: dict[str, Any] = {
        names[contract.entity_id]: (
            EntityId,
            Field(
                alias=contract.entity_id,
                description="Lead id (not blank)",
                # Documented only: _usable_id enforces it with a message naming the cause.
                json_schema_extra={"pattern": r"\S"},
            ),
        ),
        names[contract.event_time]: (
            Annotated[datetime | None, _checked(contract, contract.event_time)],
            Field(
                None,
                alias=contract.event_time,
                description="When the lead was created (default: now)",
            ),
        ),
    }
    for feature in contract.features:
        kind = Annotated[ROLE_TYPES[feature.role] | None, _degradable(contract, feature.name)]
        fields[names[feature.name]] = (
            kind,
            Field(
                None,
                alias=feature.name,
                description=_feature_text(contract, feature),
                json_schema_extra=_contract_range(feature),
            ),
        )
    safe = "".join(ch if ch.isalnum() else "_" for ch in contract.name)
    model = create_model(f"Lead_{safe}", __base__=ContractLead, **fields)
    model._features = {names[f.name]: (f.name, f.required) for f in contract.features}
    return model


def leads_body(lead: type[BaseModel], max_leads: int) -> type[RootModel]:
    """The request body: one lead object, or a list of 1 to ``max_leads`` of them."""

    class Leads(RootModel[Annotated[list[lead], Field(min_length=1, max_length=max_leads)]]):  # type: ignore[valid-type]
        @model_validator(mode="before")
        @classmethod
        def _one_lead_is_a_list_of_one(cls, value: Any) -> Any:
            return [value] if isinstance(value, dict) else value

    Leads.__name__ = f"{lead.__name__}_Leads"
    return Leads


def ignored_fields(leads: list[BaseModel]) -> list[str]:
    """Fields the leads carried that the contract does not know (sorted)."""
    return sorted({key for lead in leads for key in (lead.model_extra or {})})


def score_model(contract: Contract) -> type[BaseModel]:
    """The response body, for the OpenAPI page: one result per lead, in request order."""
    result = create_model(
        "LeadScore",
        lead_id=(str, Field(alias=contract.entity_id, description="The lead's id, as sent")),
        score=(float | None, Field(description="Conversion probability (0..1)")),
        decile=(int, Field(description="1 = top 10% of the serving version's reference scores")),
        tier=(str, Field(description="A = decile 1, B = 2-3, C = 4-6, D = 7-10")),
        model_version=(str, Field(description='Registry version that served it, or "fallback"')),
        arm=(str, Field(description="champion | canary | fallback")),
        reasons=(
            list[str] | None,
            Field(None, description="Top-3 reasons (absent with reasons=false)"),
        ),
        degraded=(
            list[str],
            Field(
                description="Features that failed the contract (wrong type, outside min/max, "
                "required but absent) and were scored as unknown; empty when none"
            ),
        ),
        # Present only while a deal-value champion (<model name>-value) serves.
        expected_value=(
            float | None,
            Field(None, description="score x predicted_value (only with a deal-value model)"),
        ),
        predicted_value=(
            float | None,
            Field(None, description="E[deal amount | won] from the deal-value model"),
        ),
        value_tier=(
            str | None,
            Field(None, description="A-D of expected_value at the value model's own deciles"),
        ),
        value_model_version=(
            str | None,
            Field(None, description="Registry version of <model name>-value that sized it"),
        ),
        value_reasons=(
            list[str] | None,
            Field(None, description="Top-3 reasons of the predicted deal value, in log value"),
        ),
    )
    return create_model(
        "ScoreResponse",
        request_id=(str, ...),
        leads=(list[result], ...),  # type: ignore[valid-type]
        ignored_fields=(list[str], Field(description="Fields no contract column matches; ignored")),
    )
