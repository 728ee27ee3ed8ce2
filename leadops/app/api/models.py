"""The request model, built from the data contract when the service starts.

Another CRM's contract gives another API with no code change: one field per
contract column (required where the contract requires it), named exactly as the CRM
names it. Fields are declared under safe Python names with the column name as alias,
so a column called ``json`` or
``model_version`` cannot clash with pydantic's own attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    create_model,
    model_validator,
)

from leadops.contract import Contract
from leadops.lead_checks import value_problems
from leadops.normalise import split_multi_valued


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


EntityId = Annotated[str, BeforeValidator(_id_text), Field(min_length=1)]
Number = Annotated[float, Field(allow_inf_nan=False)]
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
    """The contract's value check of ``column`` (leadops.lead_checks, as batch scoring)."""

    def check(value: Any) -> Any:
        if value is not None:
            why = value_problems(contract, column, value, datetime.now(UTC) + CLOCK_SKEW)
            if why:
                raise ValueError(why)
        return value

    return AfterValidator(check)


def lead_model(contract: Contract) -> type[BaseModel]:
    """One lead as the CRM sends it: the contract's columns; unknown fields kept aside.

    The id is required (routing and the log need it); the event time defaults to the
    time the request arrives and may not be later; a feature the contract requires is
    required, the others optional, and numbers keep to the contract's min/max, as in
    batch scoring (leadops.lead_checks).
    """
    names = field_names(contract)
    fields: dict[str, Any] = {
        names[contract.entity_id]: (
            EntityId,
            Field(alias=contract.entity_id, description="Lead id"),
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
        kind = Annotated[ROLE_TYPES[feature.role], _checked(contract, feature.name)]
        fields[names[feature.name]] = (
            kind if feature.required else kind | None,
            Field(
                ... if feature.required else None,
                alias=feature.name,
                description=f"{feature.role} column of contract {contract.name}"
                + (" (required)" if feature.required else ""),
            ),
        )
    safe = "".join(ch if ch.isalnum() else "_" for ch in contract.name)
    # extra="allow": unknown fields do not fail a lead; the response lists them as ignored.
    return create_model(
        f"Lead_{safe}", __config__=ConfigDict(extra="allow", populate_by_name=False), **fields
    )


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
    )
    return create_model(
        "ScoreResponse",
        request_id=(str, ...),
        leads=(list[result], ...),  # type: ignore[valid-type]
        ignored_fields=(list[str], Field(description="Fields no contract column matches; ignored")),
    )
