"""A request body taken as sent: a JSON object the route checks whole, shown in the OpenAPI
document as its model. A route that let FastAPI validate the model would refuse the model's
faults first and its own checks' (a template's unknown variable, an expiry already past) only
at the next save; taken whole, one refusal names every bad field (`kith.core.errors.raise_all`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, PlainValidator
from pydantic_core import PydanticCustomError


def taken_whole(model: type[BaseModel]) -> PlainValidator:
    """The validator of `Annotated[dict[str, Any], taken_whole(Model), Body()]`: any JSON
    object passes (anything else is a 422 naming the body), documented as `model`."""
    return PlainValidator(_an_object, json_schema_input_type=model)


def _an_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
    return value
