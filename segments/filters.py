"""The segment filter language: user JSON parsed into a typed tree, compiled to a MongoDB query
built only from Kith's own operators, and evaluated on one customer in memory.

    {"all": [{"field": "tags", "op": "contains", "value": "vip"},
             {"any": [{"field": "attributes.city", "op": "eq", "value": "上海"},
                      {"field": "channels", "op": "contains", "value": "telegram"}]}]}

The two evaluations must agree on every customer: membership kept current by events uses
`matches()`, reconciliation and counts use `to_query()`. So each operator is defined once per
field kind, in the restricted way both MongoDB and Python read the same (numbers compare with
numbers, strings with strings, dates with dates; a list matches when one element does).
User values only ever appear as operands: an object where a value belongs (`{"$gt": ""}`) and a
`$`-key beside field, op and value are refused (422 naming the place), and strings go into
regexes escaped. A filter is refused with every bad place at once. Tag values are folded as
tags are stored (`VIP` is the tag `vip`; `Telegram` the channel type `telegram`). A count or
a sum a customer has none of (`FieldSpec.absent_is_zero`: orders, lifetime value, members
invited) is 0 to both evaluations, so "never purchased" is `orders.count eq 0`.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kith.core.errors import InvalidInput, KithError, raise_all
from kith.core.storable import literal_regex
from kith.core.tags import fold_tag

MAX_DEPTH = 6
MAX_CONDITIONS = 100
MAX_LIST = 500
MAX_STRING = 256
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_\-\u0080-\uffff]{1,64}$")


class Op(StrEnum):
    eq = "eq"
    ne = "ne"
    in_ = "in"
    contains = "contains"
    not_contains = "not_contains"
    exists = "exists"
    lt = "lt"
    lte = "lte"
    gt = "gt"
    gte = "gte"
    within_days = "within_days"
    older_than_days = "older_than_days"


class Kind(StrEnum):
    """How a field's stored value is read: one vocabulary of operators per kind."""

    tags = "tags"  # a list of strings, matched element by element
    scalar = "scalar"  # an attribute: string, number, boolean, or a list of those
    number = "number"
    date = "date"
    choice = "choice"  # a string from a closed set, missing meaning `default`


OPS: dict[Kind, frozenset[Op]] = {
    Kind.tags: frozenset({Op.contains, Op.not_contains, Op.exists}),
    Kind.scalar: frozenset(set(Op) - {Op.within_days, Op.older_than_days}),
    Kind.number: frozenset({Op.eq, Op.ne, Op.lt, Op.lte, Op.gt, Op.gte, Op.exists}),
    Kind.date: frozenset({Op.lt, Op.lte, Op.gt, Op.gte, Op.within_days, Op.older_than_days}),
    Kind.choice: frozenset({Op.eq, Op.ne, Op.in_}),
}


@dataclass(frozen=True)
class FieldSpec:
    """A field the language offers: its name (a `prefix.` name takes a key after the dot),
    where it is stored on the customer document, and how it is read."""

    name: str
    path: str
    kind: Kind
    choices: tuple[str, ...] = ()
    default: str | None = None
    folded: bool = False  # values compared folded, as the field is stored (`kith.core.tags`)
    # A count or a sum: a customer without the value (never ordered, never invited) has 0 of
    # it, so `orders.count eq 0` finds them. `exists: false` still finds the value not set.
    absent_is_zero: bool = False

    def stored(self, key: str | None) -> str:
        return f"{self.path}.{key}" if key else self.path


CONSENT_STATES = ("unknown", "granted", "revoked")

CORE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("tags", "tags", Kind.tags, folded=True),
    FieldSpec("attributes.", "attributes", Kind.scalar),
    FieldSpec("channels", "channels", Kind.tags, folded=True),  # types: `telegram`
    FieldSpec("channel_ids", "identities.channel_id", Kind.tags),
    FieldSpec("consent.", "consent", Kind.choice, CONSENT_STATES, default="unknown"),
    FieldSpec("sentiment.trend", "sentiment.score", Kind.number),
    FieldSpec("created_at", "first_seen", Kind.date),
    FieldSpec("last_seen_at", "last_seen", Kind.date),
)


class Fields:
    """The fields a workspace's segments may name: core's and those features add."""

    def __init__(self, specs: Iterable[FieldSpec] = CORE_FIELDS) -> None:
        self._exact = {s.name: s for s in specs if not s.name.endswith(".")}
        self._prefixed = {s.name: s for s in specs if s.name.endswith(".")}

    def resolve(self, name: str, where: str) -> tuple[FieldSpec, str | None]:
        if name in self._exact:
            return self._exact[name], None
        # The longest prefix wins: `orders.total.` (a feature's) takes `orders.total.USD`.
        named = [p for p in self._prefixed if name.startswith(p)]
        if not named:
            raise InvalidInput(
                f"unknown field {name!r}",
                field=f"{where}.field",
                reason="unknown_field",
                limits={"name": name},
            )
        spec = self._prefixed[max(named, key=len)]
        key = name[len(spec.name) :]
        if not ATTRIBUTE_KEY.match(key):
            raise InvalidInput(
                "a field key is letters, digits, _ and -", field=f"{where}.field", reason="bad_key"
            )
        return spec, key


@dataclass(frozen=True)
class Condition:
    spec: FieldSpec
    key: str | None
    op: Op
    value: Any

    @property
    def path(self) -> str:
        return self.spec.stored(self.key)


@dataclass(frozen=True)
class Group:
    mode: str  # "all" or "any"
    children: tuple[Node, ...]


Node = Condition | Group


# Parsing -----------------------------------------------------------------------------------


def parse(raw: Any, fields: Fields | None = None) -> Node:
    """The filter in `raw`, or `InvalidInput` naming the offending path (`filter.all.1.op`)
    and, in its `fields`, every other bad place of the filter: a form marks them all at once."""
    errors: list[KithError] = []
    node = _node(raw, "filter", fields or Fields(), 0, [0], errors)
    raise_all(errors)
    assert node is not None  # nothing refused: every part parsed
    return node


def refuse_blank_values(raw: Any) -> None:
    """Refuse a condition that looks for a blank string (`tags contains ""` matched no one,
    silently), at each such value. Checked where a filter is written, not in `parse`: a filter
    stored before this check must still parse wherever it runs."""
    errors: list[KithError] = []
    _blanks(raw, "filter", errors)
    raise_all(errors)


def _blanks(raw: Any, where: str, errors: list[KithError]) -> None:
    if not isinstance(raw, Mapping):
        return
    for mode in ("all", "any"):
        items = raw.get(mode)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            _blanks(item, f"{where}.{mode}.{i}", errors)
    value = raw.get("value")
    listed = [(f".{i}", v) for i, v in enumerate(value)] if isinstance(value, list) else []
    for suffix, each in listed or [("", value)]:
        if isinstance(each, str) and not each.strip():
            errors.append(
                InvalidInput(
                    "a value to look for, not blank (exists: false finds a field not set)",
                    field=f"{where}.value{suffix}",
                    reason="blank_value",
                )
            )


def parse_json(text: str, fields: Fields | None = None) -> Node:
    """A filter sent as a JSON string (a query parameter)."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidInput("the filter is not valid JSON", field="filter") from None
    return parse(raw, fields)


def _node(
    raw: Any, where: str, fields: Fields, depth: int, counter: list[int], errors: list[KithError]
) -> Node | None:
    """The node at `where`, or None with its refusals added to `errors`."""
    if not isinstance(raw, Mapping):
        errors.append(InvalidInput("a filter is an object", field=where))
        return None
    if depth > MAX_DEPTH:
        errors.append(InvalidInput(f"filters nest at most {MAX_DEPTH} deep", field=where))
        return None
    groups = [k for k in ("all", "any") if k in raw]
    if groups:
        if len(raw) != 1:
            errors.append(InvalidInput("a group has exactly one key, all or any", field=where))
            return None
        mode = groups[0]
        items = raw[mode]
        if not isinstance(items, list) or not items:
            errors.append(InvalidInput("a group holds a non-empty list", field=f"{where}.{mode}"))
            return None
        children = [
            _node(item, f"{where}.{mode}.{i}", fields, depth + 1, counter, errors)
            for i, item in enumerate(items)
        ]
        parsed = [c for c in children if c is not None]
        return Group(mode, tuple(parsed)) if len(parsed) == len(children) else None
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        if counter[0] == MAX_CONDITIONS + 1:  # said once, not once per condition beyond
            errors.append(InvalidInput(f"at most {MAX_CONDITIONS} conditions", field=where))
        return None
    try:
        return _condition(raw, where, fields)
    except InvalidInput as exc:
        errors.extend(exc.fields)
        return None


def _condition(raw: Mapping[str, Any], where: str, fields: Fields) -> Condition:
    """One condition; every refusal of it in one `InvalidInput` (the field, the op and the
    value are checked each on its own, as far as what they depend on allows)."""
    errors: list[KithError] = []
    extra = sorted(set(raw) - {"field", "op", "value"})
    if extra:
        operator = next((k for k in extra if str(k).startswith("$")), None)
        errors.append(
            InvalidInput(
                f"operators such as {operator!r} are not taken: a condition has field, op and value"
                if operator
                else f"unknown key {extra[0]!r}",
                field=where,
            )
        )
    spec: FieldSpec | None = None
    key: str | None = None
    name = raw.get("field")
    if not isinstance(name, str):
        errors.append(InvalidInput("field is a string", field=f"{where}.field"))
    else:
        try:
            spec, key = fields.resolve(name, where)
        except InvalidInput as exc:
            errors.append(exc)
    op: Op | None = None
    try:
        op = Op(str(raw.get("op")))
    except ValueError:
        errors.append(InvalidInput(f"unknown op; one of {', '.join(Op)}", field=f"{where}.op"))
    if op is not None and spec is not None and op not in OPS[spec.kind]:
        allowed = ", ".join(sorted(OPS[spec.kind]))
        errors.append(InvalidInput(f"{name} takes {allowed}", field=f"{where}.op"))
        op = None
    value: Any = None
    if "value" not in raw:
        errors.append(InvalidInput("value is required", field=f"{where}.value"))
    elif isinstance(raw["value"], Mapping):  # whatever the field: `{"$gt": ""}` is no value
        errors.append(_object_value(f"{where}.value"))
    elif op is not None and spec is not None:
        try:
            value = _value(spec, op, raw["value"], f"{where}.value")
        except InvalidInput as exc:
            errors.append(exc)
    raise_all(errors)
    assert spec is not None and op is not None
    if spec.folded and isinstance(value, str):
        value = fold_tag(value)  # `VIP` finds the customers tagged `vip` (`kith.core.tags`)
    return Condition(spec, key, op, value)


def _object_value(where: str) -> InvalidInput:
    return InvalidInput(
        "a value is a string, a number or true/false, not an object (operators such as $gt "
        "are not taken)",
        field=where,
        reason="object_value",
    )


def _value(spec: FieldSpec, op: Op, value: Any, where: str) -> Any:
    if op is Op.exists:
        if not isinstance(value, bool):
            raise InvalidInput("exists takes true or false", field=where)
        return value
    if op in (Op.within_days, Op.older_than_days):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36_500:
            raise InvalidInput("a number of days, 0 to 36500", field=where)
        return value
    if op is Op.in_:
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise InvalidInput(f"in takes a list of 1 to {MAX_LIST} values", field=where)
        return tuple(_scalar(spec, v, f"{where}.{i}") for i, v in enumerate(value))
    if op in COMPARISONS and isinstance(value, bool):
        raise InvalidInput(f"{op} takes a number, a string or a date", field=where)
    return _scalar(spec, value, where)


COMPARISONS = frozenset({Op.lt, Op.lte, Op.gt, Op.gte})


def _scalar(spec: FieldSpec, value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        raise _object_value(where)
    if spec.kind is Kind.date:
        return _date(value, where)
    if spec.kind is Kind.number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput("a number", field=where)
        if not math.isfinite(value):  # JSON's Infinity/NaN: stored, they read back as null
            raise InvalidInput("a finite number", field=where)
        return value
    if spec.kind is Kind.choice:
        if value not in spec.choices:
            raise InvalidInput(f"one of {', '.join(spec.choices)}", field=where)
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise InvalidInput(f"at most {MAX_STRING} characters", field=where)
        return value
    if spec.kind is Kind.scalar and isinstance(value, bool | int | float):
        if not math.isfinite(value):
            raise InvalidInput("a finite number", field=where)
        return value
    raise InvalidInput("a string" if spec.kind is Kind.tags else "a string or number", field=where)


def _date(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise InvalidInput("an ISO 8601 date-time with its offset", field=where, reason="bad_date")


# MongoDB -----------------------------------------------------------------------------------


def to_query(node: Node, now: datetime) -> dict[str, Any]:
    """A MongoDB filter for `node`; `now` anchors `within_days` / `older_than_days`."""
    if isinstance(node, Group):
        return {
            f"${'and' if node.mode == 'all' else 'or'}": [to_query(c, now) for c in node.children]
        }
    return _QUERIES[node.op](node, now)


def _eq(c: Condition, _now: datetime) -> dict[str, Any]:
    if c.spec.kind is Kind.choice:
        return _choice_in(c, (c.value,))
    return _or_absent(c, {c.path: c.value}, _same(0, c.value))


def _or_absent(c: Condition, query: dict[str, Any], zero_holds: bool) -> dict[str, Any]:
    """`query`, and also the customers without the value when it counts as zero and zero
    holds: `orders.count lt 1` finds those who never ordered. (`{path: None}` is MongoDB's
    "missing or null", what `_numbers` reads as 0.)"""
    if c.spec.absent_is_zero and zero_holds:
        return {"$or": [query, {c.path: None}]}
    return query


def _choice_in(c: Condition, values: Iterable[str]) -> dict[str, Any]:
    path = f"{c.path}.state"
    wanted = list(values)
    if c.spec.default in wanted:
        return {"$or": [{path: {"$in": wanted}}, {path: {"$exists": False}}]}
    return {path: {"$in": wanted}}


def _ne(c: Condition, now: datetime) -> dict[str, Any]:
    return {"$nor": [_eq(c, now)]}


def _in(c: Condition, _now: datetime) -> dict[str, Any]:
    if c.spec.kind is Kind.choice:
        return _choice_in(c, c.value)
    return _or_absent(c, {c.path: {"$in": list(c.value)}}, any(_same(0, w) for w in c.value))


def _contains(c: Condition, _now: datetime) -> dict[str, Any]:
    if c.spec.kind is Kind.tags or not isinstance(c.value, str):
        return {c.path: c.value}
    return {"$or": [{c.path: c.value}, {c.path: {"$regex": literal_regex(c.value)}}]}


def _not_contains(c: Condition, now: datetime) -> dict[str, Any]:
    return {"$nor": [_contains(c, now)]}


def _exists(c: Condition, _now: datetime) -> dict[str, Any]:
    if c.spec.kind is Kind.tags:
        present: dict[str, Any] = {f"{c.path}.0": {"$exists": True}}
    else:
        present = {c.path: {"$exists": True, "$ne": None}}
    return present if c.value else {"$nor": [present]}


def _compare(
    mongo_op: str, test: Callable[[Any, Any], bool]
) -> Callable[[Condition, datetime], dict[str, Any]]:
    def query(c: Condition, _now: datetime) -> dict[str, Any]:
        compared = {c.path: {mongo_op: c.value}}  # MongoDB compares within a type bracket
        return _or_absent(c, compared, _bracket(0, c.value) and test(0, c.value))

    return query


def _days(newer: bool) -> Callable[[Condition, datetime], dict[str, Any]]:
    def query(c: Condition, now: datetime) -> dict[str, Any]:
        edge = now - timedelta(days=c.value)
        return {c.path: {"$gte" if newer else "$lt": edge}}

    return query


_QUERIES: dict[Op, Callable[[Condition, datetime], dict[str, Any]]] = {
    Op.eq: _eq,
    Op.ne: _ne,
    Op.in_: _in,
    Op.contains: _contains,
    Op.not_contains: _not_contains,
    Op.exists: _exists,
    Op.lt: _compare("$lt", operator.lt),
    Op.lte: _compare("$lte", operator.le),
    Op.gt: _compare("$gt", operator.gt),
    Op.gte: _compare("$gte", operator.ge),
    Op.within_days: _days(newer=True),
    Op.older_than_days: _days(newer=False),
}


# In memory ---------------------------------------------------------------------------------


def matches(node: Node, doc: Mapping[str, Any], now: datetime) -> bool:
    """Whether the customer document `doc` (as stored) is in `node`, as `to_query` decides."""
    if isinstance(node, Group):
        results = (matches(c, doc, now) for c in node.children)
        return all(results) if node.mode == "all" else any(results)
    return _TESTS[node.op](node, _numbers(node, _values(doc, node.path)), now)


def _numbers(c: Condition, values: list[Any]) -> list[Any]:
    """`values`, or `[0]` for a count or a sum not set (missing or null), as `_or_absent`
    reads it; `exists` still sees what is stored."""
    if c.spec.absent_is_zero and c.op is not Op.exists and all(v is None for v in values):
        return [0]
    return values


_MISSING = object()


def _values(doc: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at `path`, descending into lists as MongoDB does; a list value is listed
    both whole and element by element. Empty when the path is missing."""
    current: list[Any] = [doc]
    for part in path.split("."):
        found: list[Any] = []
        for item in current:
            for value in item if isinstance(item, list) else [item]:
                if isinstance(value, Mapping) and part in value:
                    found.append(value[part])
        current = found
    flat: list[Any] = []
    for value in current:
        flat.append(value)
        if isinstance(value, list):
            flat.extend(value)
    return flat


def _same(a: Any, b: Any) -> bool:
    """Equality within one type bracket: `True` is not `1`, as in BSON."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _bracket(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return True
    return isinstance(a, str | datetime) and type(a) is type(b)


def _t_eq(c: Condition, values: list[Any], _now: datetime) -> bool:
    if c.spec.kind is Kind.choice:
        return _state(values, c) in (c.value,)
    return any(_same(v, c.value) for v in values)


def _state(values: list[Any], c: Condition) -> Any:
    """A choice stored as `{"state": …}`; a missing one reads as the field's default."""
    for value in values:
        if isinstance(value, Mapping):
            return value.get("state", c.spec.default)
    return c.spec.default


def _t_in(c: Condition, values: list[Any], _now: datetime) -> bool:
    if c.spec.kind is Kind.choice:
        return _state(values, c) in c.value
    return any(_same(v, w) for v in values for w in c.value)


def _t_contains(c: Condition, values: list[Any], _now: datetime) -> bool:
    if any(_same(v, c.value) for v in values):
        return True
    if c.spec.kind is Kind.tags or not isinstance(c.value, str):
        return False
    return any(isinstance(v, str) and c.value in v for v in values)


def _t_exists(c: Condition, values: list[Any], _now: datetime) -> bool:
    if c.spec.kind is Kind.tags:
        present = any(isinstance(v, list) and v for v in values)
    else:
        present = any(v is not None for v in values)
    return present is c.value


def _t_compare(
    test: Callable[[Any, Any], bool],
) -> Callable[[Condition, list[Any], datetime], bool]:
    def check(c: Condition, values: list[Any], _now: datetime) -> bool:
        return any(_bracket(v, c.value) and test(v, c.value) for v in values)

    return check


def _t_days(newer: bool) -> Callable[[Condition, list[Any], datetime], bool]:
    def check(c: Condition, values: list[Any], now: datetime) -> bool:
        edge = now - timedelta(days=c.value)
        dates = [v for v in values if isinstance(v, datetime)]
        return any((v >= edge) if newer else (v < edge) for v in dates)

    return check


_TESTS: dict[Op, Callable[[Condition, list[Any], datetime], bool]] = {
    Op.eq: _t_eq,
    Op.ne: lambda c, values, now: not _t_eq(c, values, now),
    Op.in_: _t_in,
    Op.contains: _t_contains,
    Op.not_contains: lambda c, values, now: not _t_contains(c, values, now),
    Op.exists: _t_exists,
    Op.lt: _t_compare(operator.lt),
    Op.lte: _t_compare(operator.le),
    Op.gt: _t_compare(operator.gt),
    Op.gte: _t_compare(operator.ge),
    Op.within_days: _t_days(newer=True),
    Op.older_than_days: _t_days(newer=False),
}


def fields_named(node: Node) -> set[str]:
    """The stored paths a filter reads: an event that changes none of them cannot move a
    customer in or out."""
    if isinstance(node, Group):
        return set().union(*(fields_named(c) for c in node.children))
    return {node.path}
