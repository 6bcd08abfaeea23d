"""Templates: refused at save with line and column, rendered in a sandbox, output capped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kith.broadcasts import templates
from kith.core.models import Customer

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def customer(**fields: object) -> Customer:
    return Customer.model_validate(
        {"id": "c1", "workspace_id": "w", "first_seen": NOW, "last_seen": NOW, **fields}
    )


def refused(source: str) -> templates.TemplateError:
    with pytest.raises(templates.TemplateError) as caught:
        templates.check(source, "message.text.zh")
    assert caught.value.field == "message.text.zh"
    return caught.value


def test_personalises_name_and_attribute_with_a_default() -> None:
    source = "你好 {{ customer.name }}{{ customer.attributes.city | default('') }}!"
    templates.check(source, "message.text.zh")
    ada = customer(name="Ada", attributes={"city": "上海"})
    assert templates.render(source, ada) == "你好 Ada上海!"
    assert templates.render(source, customer(name="Bo")) == "你好 Bo!"


def test_a_syntax_error_names_its_line_and_column() -> None:
    error = refused("Hello\n  there {{ customer.name }")
    assert (error.limits["line"], error.limits["column"]) == (2, 9)
    assert "line 2, column 9" in error.message


def test_an_unknown_variable_names_its_line_and_column() -> None:
    error = refused("Hi {{ customer.name }},\nyour {{ order.total }}")
    assert error.reason == "unknown_variable"
    assert error.limits == {"line": 2, "column": 9, "variable": "order"}
    assert "order" in error.message


def test_an_unknown_customer_field_is_refused() -> None:
    error = refused("{{ customer.emails }}")
    assert "customer.emails" in error.message
    refused("{{ customer.__class__ }}")


def test_loop_variables_and_tags_are_allowed() -> None:
    source = "{% for t in customer.tags %}[{{ t }}]{% endfor %}{% if customer.locale %}!{% endif %}"
    templates.check(source, "message.text.en")
    assert templates.render(source, customer(tags=["vip", "new"])) == "[vip][new]"


def test_the_sandbox_refuses_methods_of_the_data() -> None:
    source = "{{ customer.name.__class__.__mro__ }}"
    error = refused(source)  # refused at save …
    assert "customer.name.__class__" in error.message
    with pytest.raises(templates.TemplateError):  # … and by the sandbox, had it been stored
        templates.render(source, customer(name="Ada"))


def test_a_missing_attribute_without_default_fails_for_that_customer() -> None:
    source = "{{ customer.attributes.city }}"
    templates.check(source, "message.text.en")
    with pytest.raises(templates.TemplateError) as caught:
        templates.render(source, customer(name="Ada"))
    assert caught.value.reason == "template_missing_value"
    assert caught.value.limits["name"] == "city"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ customer.attributes.plan + 1 }}", "template_wrong_type"),
        ("{{ 10 // customer.attributes.seats }}", "template_bad_value"),
        ("{{ customer.attributes['tier'] }}", "template_missing_value"),
        # Jinja's own errors from a filter, a global or a statement: once a 500 when saved
        ("{{ customer.name | truncate(-5) }}", "template_failed"),  # an AssertionError
        ("{{ cycler() }}", "template_failed"),  # a RuntimeError
        ("{% set customer.name = 'x' %}", "template_failed"),  # a TemplateRuntimeError
    ],
)
def test_a_failure_for_one_customer_says_why_for_the_page(source: str, reason: str) -> None:
    """The page words the reason in its language; Jinja's English words ride as `detail`."""
    ada = customer(name="Ada", attributes={"plan": "gold", "seats": 0})
    with pytest.raises(templates.TemplateError) as caught:
        templates.render(source, ada, "message.text.en")
    assert (caught.value.reason, caught.value.field) == (reason, "message.text.en")
    assert caught.value.limits["detail"] and caught.value.message.startswith("template failed")


def test_output_is_capped_while_it_is_produced() -> None:
    source = "{% for i in range(1000) %}xxxxxxxxxx{% endfor %}"
    with pytest.raises(templates.TemplateError, match="longer than"):
        templates.render(source, customer())
    with pytest.raises(templates.TemplateError, match="longer than"):  # too long for anyone
        templates.check(source, "message.text.en")


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}hi",
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}hi",
        "{% for a in '" + "x" * 900 + "' %}{% for b in '" + "x" * 900 + "' %}{% endfor %}"
        "{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ 'x' | center(999999999) }}",
        "{{ '%0999999999d' % 1 }}",
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s.replace('x', 'xx') %}{% endfor %}",
        "{{ range(1000) | join('x' * 4000) }}",
    ],
)
def test_a_template_that_does_too_much_work_is_refused_naming_its_field(source: str) -> None:
    """Regression (QA marketer #2): nested `range(10000)` loops froze the server for seconds."""
    error = refused(source)
    assert error.code == "template_too_costly"
    with pytest.raises(templates.TemplateTooCostly) as caught:  # and bounded at send time
        templates.render(source, customer(name="Ada"))
    assert caught.value.field == "text"


@pytest.mark.parametrize("source", ["{% macro f() %}{% endmacro %}", "{{ 'x' | indent(8) }}"])
def test_statements_and_filters_without_a_bound_are_refused(source: str) -> None:
    refused(source)


def test_loops_within_the_budget_still_render() -> None:
    source = (
        "{% for i in range(3) %}{% for t in customer.tags %}{{ t|upper }}{% endfor %}{% endfor %}"
    )
    templates.check(source, "message.text.en")
    assert templates.render(source, customer(tags=["a", "b"])) == "ABABAB"
