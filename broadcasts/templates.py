"""Message templates: a sandboxed Jinja2 that personalises a broadcast per customer.

A marketer's text is code run on every recipient, so it is checked when the broadcast is
saved (syntax, and every variable it names), rendered in a sandbox (no attribute of any
object but the plain data we hand it) with `StrictUndefined` (a misspelt name fails instead
of printing nothing), and its output is capped while it is produced (a loop cannot build a
megabyte).
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.filters import FILTERS
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from kith.broadcasts import template_syntax
from kith.core.errors import InvalidInput
from kith.core.models import Customer

MAX_OUTPUT = 4096
MAX_SOURCE = 4096
MAX_STEPS = 10_000  # loop iterations, calls, filters and growing operators in one render
# A backstop: the step budget ends any template well before this. Counted in the render's own
# CPU time (`time.thread_time`), not the wall's: a thread the machine leaves waiting (a busy
# host, the GIL held elsewhere) did no work, and refusing it would skip a recipient for good.
MAX_SECONDS = 0.25
MAX_RANGE = 1000
MAX_VALUE = 16_384  # characters or items of any value a template builds on its way
MAX_INT_BITS = 256
# What a template may read: `customer.<field>`, and any key under `customer.attributes`.
CUSTOMER_FIELDS = frozenset({"name", "locale", "tags", "attributes"})
GLOBALS = frozenset({"range", "loop", "namespace", "cycler", "joiner"})
# Filters whose cost follows the size of their input (no `format`, `indent`, `wordwrap`,
# `urlize`, `pprint`, `random`: widths multiply, or output is not text for a customer).
SAFE_FILTERS = frozenset(
    {
        "abs", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "first", "float", "int", "items", "join", "last", "length", "list", "lower", "map",
        "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
        "selectattr", "sort", "string", "striptags", "sum", "title", "trim", "truncate",
        "unique", "upper", "urlencode", "wordcount",
    }
)  # fmt: skip
STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "isalnum", "isalpha",
        "isdigit", "islower", "isnumeric", "isspace", "isupper", "lower", "lstrip",
        "replace", "rfind", "rstrip", "split", "startswith", "strip", "title", "upper",
    }
)  # fmt: skip
# Statements a message text has no use for, and whose cost no budget sees (recursion).
REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Include: "include",
    nodes.Extends: "extends",
}
PRINTF_WIDTH = re.compile(r"%[^a-zA-Z%]*(\*|\d{4,})")
SAMPLE = Customer(
    id="sample",
    workspace_id="sample",
    name="Sample",
    first_seen=datetime(2026, 1, 1, tzinfo=UTC),
    last_seen=datetime(2026, 1, 1, tzinfo=UTC),
)


class TemplateError(InvalidInput):
    """A template refused at save time, or one that failed for one customer."""

    code = "template_invalid"


class TemplateTooCostly(TemplateError):
    """A template that needs more work than one message may take (one reason for every limit:
    the page says "simplify it" in its language; the message says which limit)."""

    code = "template_too_costly"

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="template_too_costly")


class TemplateOutputTooLong(TemplateError):
    """A template whose text outgrows one message (for the sample customer at save time: then
    for everyone, so it is refused rather than skipping every recipient)."""

    def __init__(self) -> None:
        super().__init__(
            f"output longer than {MAX_OUTPUT} characters",
            reason="template_output_too_long",
            limits={"max_length": MAX_OUTPUT},
        )


@dataclass
class _Budget:
    steps: int
    deadline: float
    missing: str | None = None  # the last name a render found no value for


class _Missing(StrictUndefined):
    """`StrictUndefined` that notes which name had no value, so that a failure for one
    customer can say it in the page's language (Jinja's own message is English)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        budget = _BUDGET.get()
        if budget is not None and isinstance(self._undefined_name, str):
            budget.missing = self._undefined_name
        return str(super()._undefined_message)


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _spend(steps: int = 1) -> None:
    """Count work done by the render under way (none at compile time's constant folding)."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.steps -= steps
    if budget.steps < 0:
        raise TemplateTooCostly(f"the template does too much work (over {MAX_STEPS} steps)")
    if time.thread_time() > budget.deadline:
        raise TemplateTooCostly(f"the template takes too long (over {MAX_SECONDS} s)")


def _sized(value: Any) -> Any:
    """`value`, unless it is larger than a message could use."""
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_VALUE:
        raise TemplateTooCostly(f"a value longer than {MAX_VALUE} characters or items")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateTooCostly(f"a number larger than {MAX_INT_BITS} bits")
    return value


def _check_size(size: int) -> None:
    if size > MAX_VALUE:
        raise TemplateTooCostly(f"a value longer than {MAX_VALUE} characters or items")


def _small_ints(args: Iterable[Any]) -> None:
    """Refuse a width or count that would build a huge value before it could be measured."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT:
            raise TemplateTooCostly(f"a width or count above {MAX_OUTPUT}")


def _grown_size(op: str, left: Any, right: Any) -> int:
    """The size `left op right` would have, worked out without building it."""
    if op == "*" and isinstance(left, int) and isinstance(right, int):
        return (left.bit_length() + right.bit_length()) * MAX_VALUE // MAX_INT_BITS
    if op == "*" and isinstance(right, int) and hasattr(left, "__len__"):
        return len(left) * right
    if op == "*" and isinstance(left, int) and hasattr(right, "__len__"):
        return len(right) * left
    if op == "**" and isinstance(left, int) and isinstance(right, int):
        return max(left.bit_length(), 1) * right * MAX_VALUE // MAX_INT_BITS
    if op == "%" and isinstance(left, str) and PRINTF_WIDTH.search(left):
        return MAX_VALUE + 1
    return 0


def _joined_size(items: Iterable[Any], separator: str) -> int:
    values = list(items)
    return sum(len(v) if isinstance(v, str) else 32 for v in values) + len(separator) * len(values)


def _replaced_size(text: str, old: str, new: str) -> int:
    return len(text) + (text.count(old) if old else len(text) + 1) * len(new)


def _budgeted_loop(iterable: Any) -> Iterator[Any]:
    """A `{% for %}`'s items, each one a step."""
    for item in iterable:
        _spend()
        yield item


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` counted as a step, with its widths bounded and its answer measured."""

    @functools.wraps(func)  # keeps `jinja_pass_arg`: Jinja passes what the filter asks for
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        _small_ints([*args, *kwargs.values()])
        skip = sum(1 for a in args[:1] if isinstance(a, Context | EvalContext))
        data = list(args[skip:])
        if name == "join" and data:  # items × separator: measured before it is built
            data[0] = _sized(list(data[0]))
            separator = data[1] if len(data) > 1 else kwargs.get("d", "")
            _check_size(_joined_size(data[0], str(separator)))
        if name == "replace" and len(data) >= 3 and all(isinstance(a, str) for a in data[:3]):
            _check_size(_replaced_size(*data[:3]))
        result = func(*args[:skip], *data, **kwargs)
        return result if name in {"map", "select", "reject"} else _sized(result)

    return guarded


def _bounded_range(*args: int) -> range:
    _spend()
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateTooCostly(f"a range of at most {MAX_RANGE} numbers")
    return numbers


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with every operation that can take time or memory counted and bounded."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=_Missing, autoescape=False)
        self.globals["range"] = _bounded_range
        self.filters = {n: _guard_filter(n, f) for n, f in FILTERS.items() if n in SAFE_FILTERS}
        self.filters["_kith_loop"] = _budgeted_loop
        self.filters["_kith_sized"] = _sized

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        _check_size(_grown_size(operator, left, right))
        return _sized(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _spend()
        if obj is not _bounded_range:  # which names its own limit
            _small_ints([*args, *kwargs.values()])
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str) and getattr(obj, "__name__", "") == "replace" and args:
            _check_size(_replaced_size(owner, str(args[0]), str(args[-1])))
        return _sized(super().call(context, obj, *args, **kwargs))


ENV = _Sandbox()


@dataclass(frozen=True)
class Place:
    line: int
    column: int


def _column(source: str, line: int, needle: str | None) -> int:
    """1-based column of `needle` on `line` (Jinja reports lines only); else of its first tag."""
    lines = source.splitlines() or [""]
    text = lines[min(max(line, 1), len(lines)) - 1]
    for probe in (needle, "{{", "{%"):
        if probe and probe in text:
            return text.index(probe) + 1
    return 1


def _refuse(
    field: str,
    message: str,
    source: str,
    line: int,
    needle: str | None,
    reason: str = "template",
    **values: str,
) -> TemplateError:
    """`reason` and `limits` (the place, and `values`) let a page word it in its language."""
    place = Place(line, _column(source, line, needle))
    return TemplateError(
        f"{message} (line {place.line}, column {place.column})",
        field=field,
        reason=reason,
        limits={"line": place.line, "column": place.column, **values},
    )


def _syntax(field: str, exc: TemplateSyntaxError, source: str) -> TemplateError:
    detail = exc.message or "invalid"
    message = f"template syntax: {detail}"
    reason, values = template_syntax.classify(detail)
    values = {"detail": detail, **values}  # `classify` may name the detail itself
    name = values.get("filter") or values.get("test")  # Jinja's place is its statement's
    return _refuse(field, message, source, exc.lineno, name, reason, **values)


def _path(node: nodes.Node) -> list[str] | None:
    """`customer.attributes.city` as ["customer", "attributes", "city"]; None if not a path."""
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Getattr):
        base = _path(node.node)
        return None if base is None else [*base, node.attr]
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _path(node.node)
        return None if base is None else [*base, str(node.arg.value)]
    return None


def _unknown_names(tree: nodes.Template) -> tuple[str, int] | None:
    """The first variable the template reads that the safe context does not hold."""
    local = {
        target.name for target in tree.find_all(nodes.Name) if target.ctx in {"store", "param"}
    }
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        path = _path(node)
        if path is None:
            continue
        private = next((part for part in path if part.startswith("_")), None)
        if private is not None:
            return ".".join(path[: path.index(private) + 1]), node.lineno
        if path[0] in GLOBALS and len(path) > 1 and path[0] != "loop":
            return ".".join(path[:2]), node.lineno
        if path[0] in local or path[0] in GLOBALS:
            continue
        if path[0] != "customer":
            return path[0], node.lineno
        if len(path) > 1 and path[1] not in CUSTOMER_FIELDS:
            return ".".join(path[:2]), node.lineno
    return None


def _refused_statement(tree: nodes.Template) -> tuple[str, int] | None:
    """The first statement the sandbox does not run (its name and line)."""
    for node in tree.find_all(nodes.Stmt):
        if isinstance(node, nodes.For) and node.recursive:
            return "recursive for", node.lineno
        for kind, name in REFUSED_NODES.items():
            if isinstance(node, kind):
                return name, node.lineno
    return None


def _budgeted(tree: nodes.Template) -> nodes.Template:
    """`tree` with every loop counting its iterations and every `~` measuring its result."""
    for loop in list(tree.find_all(nodes.For)):
        loop.iter = nodes.Filter(loop.iter, "_kith_loop", [], [], None, None, lineno=loop.lineno)
    for parent in [tree, *tree.find_all(nodes.Node)]:
        for name in parent.fields:
            child = getattr(parent, name, None)
            if isinstance(child, nodes.Concat):
                sized = nodes.Filter(child, "_kith_sized", [], [], None, None)
                setattr(parent, name, sized.set_lineno(child.lineno))
            elif isinstance(child, list):
                for n, item in enumerate(child):
                    if isinstance(item, nodes.Concat):
                        sized = nodes.Filter(item, "_kith_sized", [], [], None, None)
                        child[n] = sized.set_lineno(item.lineno)
    return tree


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """The template as it runs (a broadcast renders one source for every recipient)."""
    tree = ENV.parse(source)
    refused = _refused_statement(tree)
    if refused is not None:
        name, line = refused
        raise TemplateSyntaxError(f"{{% {name} %}} is not available in messages", line)
    return ENV.from_string(_budgeted(tree))


def check(source: str, field: str) -> None:
    """Refuse a template that does not parse, names a variable it may not read, or does more
    work than a message may (tried once on a sample customer)."""
    if len(source) > MAX_SOURCE:
        raise TemplateError(
            f"at most {MAX_SOURCE} characters",
            field=field,
            reason="string_too_long",
            limits={"max_length": MAX_SOURCE},
        )
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise _syntax(field, exc, source) from None
    unknown = _unknown_names(tree)
    if unknown is not None:
        name, line = unknown
        leaf = name.rsplit(".", 1)[-1]
        message = f"unknown variable {name!r}"
        raise _refuse(field, message, source, line, leaf, "unknown_variable", variable=name)
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:  # TemplateAssertionError too: an unknown filter
        raise _syntax(field, exc, source) from None
    try:
        render(source, SAMPLE, field)
    except (TemplateTooCostly, TemplateOutputTooLong):
        raise
    except TemplateError as exc:
        if exc.reason == "template_failed":  # Jinja's own error (`truncate(-5)`): a value of
            raise _fails_always(exc, field) from None  # the customer's would fail otherwise
        # else it fails for a customer like the sample (no attributes): fine for others


def _fails_always(failed: TemplateError, field: str) -> TemplateError:
    """Refused at save: it would fail for every recipient, who would all be skipped."""
    detail = (failed.limits or {}).get("detail", "")
    return TemplateError(
        f"fails for every customer: {detail}",
        field=field,
        reason="template_fails_always",
        limits={"detail": detail},
    )


async def check_async(source: str, field: str) -> None:
    """`check`, off the event loop (its trial render may use a whole budget)."""
    await asyncio.to_thread(check, source, field)


def context(customer: Customer) -> dict[str, Any]:
    """The only data a template sees: plain values, no objects with methods."""
    return {
        "customer": {
            "name": customer.name or "",
            "locale": customer.locale or "",
            "tags": list(customer.tags),
            "attributes": _plain(customer.attributes),
        }
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def render(source: str, customer: Customer, field: str = "text") -> str:
    """The text for one customer; TemplateError when it fails for them or grows too long."""
    return _render(source, context(customer), field)


def render_plain(source: str, field: str = "text") -> str:
    """The text for no one in particular (a post into a group), under the same limits."""
    return _render(source, {}, field)


async def render_async(source: str, customer: Customer, field: str = "text") -> str:
    """`render`, off the event loop."""
    return await asyncio.to_thread(render, source, customer, field)


def _render(source: str, values: dict[str, Any], field: str) -> str:
    token = _BUDGET.set(_Budget(MAX_STEPS, time.thread_time() + MAX_SECONDS))
    try:
        template = _compiled(source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(values):
            _spend()
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateOutputTooLong()
            out.append(chunk)
    except TemplateError as exc:
        exc.field = field
        raise
    except (TemplateRuntimeError, TemplateSyntaxError) as exc:  # an undefined value, the sandbox
        raise _failed(exc, field) from None
    except Exception as exc:  # the marketer's code: what it raises (a filter's assert, cycler())
        raise _failed(exc, field) from None  # is its failure, not the sender's
    finally:
        _BUDGET.reset(token)
    return "".join(out)


# Why a render failed for one customer, for a page to word (`reason_<reason>`); the first
# class an exception is an instance of wins.
_FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (UndefinedError, "template_missing_value"),
    (TypeError, "template_wrong_type"),
    (ArithmeticError, "template_bad_value"),
    (ValueError, "template_bad_value"),
)


def _failed(exc: Exception, field: str) -> TemplateError:
    """The failure for one customer: Jinja's words as `detail`, and the name that had no
    value for a missing one."""
    detail = str(exc)
    reason = next((r for kind, r in _FAILURES if isinstance(exc, kind)), "template_failed")
    limits: dict[str, Any] = {"detail": detail}
    budget = _BUDGET.get()
    if reason == "template_missing_value" and budget is not None and budget.missing:
        limits["name"] = budget.missing
    elif reason == "template_missing_value":
        reason = "template_failed"
    return TemplateError(f"template failed: {detail}", field=field, reason=reason, limits=limits)
