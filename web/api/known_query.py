"""The public API refuses query parameters a route does not take, as it refuses unknown body
keys: `GET /api/v1/conversations?priority=high` would otherwise answer the whole list, and
the integrator believe it filtered."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from kith.core.errors import InvalidInput, joined

PUBLIC_API = "/api/v1/"
_TAKEN: dict[int, frozenset[str]] = {}  # route id → the query parameters it takes


def _names(dependant: Dependant) -> set[str]:
    """The query parameters a route's handler and its dependencies declare (a parameter
    typed as a model stands for that model's fields)."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {info.alias or name for name, info in annotation.model_fields.items()}
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


def taken(route: APIRoute) -> frozenset[str]:
    if id(route) not in _TAKEN:
        _TAKEN[id(route)] = frozenset(_names(route.dependant))
    return _TAKEN[id(route)]


async def refuse_unknown_query(request: Request) -> None:
    """A dependency of every route: a public API request naming a query parameter its route
    does not take is a 422 on that parameter (all of them, `fields`)."""
    route = request.scope.get("route")
    if not request.url.path.startswith(PUBLIC_API) or not isinstance(route, APIRoute):
        return
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in taken(route)]
    if unknown:
        raise joined([_refusal(name) for name in unknown])


def _refusal(name: str) -> InvalidInput:
    """An unknown parameter, named; one without a name (`?=x`) is named `query`."""
    if not name:
        why = "a query parameter without a name (`?=value`)"
        return InvalidInput(why, field="query", reason="extra_forbidden")
    why = "unknown query parameter: this request does not take it"
    return InvalidInput(why, field=name, reason="extra_forbidden")
