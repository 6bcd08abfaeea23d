"""Message templates: a sandboxed Jinja2 that personalises a broadcast per customer.

A marketer's text is code run on every recipient, so it is checked when the broadcast is
saved (syntax, and every variable it names), rendered in a sandbox (no attribute of any
object but the plain data we hand it) with `StrictUndefined` (a misspelt name fails instead
of printing nothing), and its output is capped while it is produced (a loop cannot build a
megabyte).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from kith.core.errors import InvalidInput
from kith.core.models import Customer

MAX_OUTPUT = 4096
MAX_SOURCE = 4096
# What a template may read: `customer.<field>`, and any key under `customer.attributes`.
CUSTOMER_FIELDS = frozenset({"name", "locale", "tags", "attributes"})
ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
GLOBALS = frozenset({"range", "loop", "namespace", "cycler", "joiner"})


class TemplateError(InvalidInput):
    """A template refused at save time, or one that failed for one customer."""

    code = "template_invalid"


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


def _refuse(field: str, message: str, source: str, line: int, needle: str | None) -> TemplateError:
    place = Place(line, _column(source, line, needle))
    return TemplateError(
        f"{message} (line {place.line}, column {place.column})",
        field=field,
        reason="template",
        limits={"line": place.line, "column": place.column},
    )


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


def check(source: str, field: str) -> None:
    """Refuse a template that does not parse or names a variable it may not read."""
    if len(source) > MAX_SOURCE:
        raise TemplateError(f"at most {MAX_SOURCE} characters", field=field)
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise _refuse(field, f"template syntax: {exc.message}", source, exc.lineno, None) from None
    unknown = _unknown_names(tree)
    if unknown is not None:
        name, line = unknown
        leaf = name.rsplit(".", 1)[-1]
        raise _refuse(field, f"unknown variable {name!r}", source, line, leaf)


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


def _render(source: str, values: dict[str, Any], field: str) -> str:
    try:
        template = ENV.from_string(source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateError(f"output longer than {MAX_OUTPUT} characters", field=field)
            out.append(chunk)
    except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
        raise TemplateError(f"template failed: {exc}", field=field) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateError(f"template failed: {exc}", field=field) from None
    return "".join(out)
