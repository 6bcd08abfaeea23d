"""Jinja's English syntax errors become reasons a page words in its language (the Chinese
page must not show "unexpected '}'"), with the token or tag at fault, and every reason has
its sentence in both languages."""

from __future__ import annotations

import pytest

from kith.broadcasts import templates
from kith.web.inbox.i18n import messages

CASES = [
    ("Hi {{ customer.name }", "template_unexpected", {"token": "}"}),
    ("Hi {{ customer.name", "template_unclosed", {"end": "}}"}),
    ("{% if customer.name", "template_unclosed", {"end": "%}"}),
    ("{# a note", "template_unclosed", {"end": "#}"}),
    ("{% if customer.name %}a", "template_block_unclosed", {"block": "if", "end": "endif"}),
    ("{% shout %}", "template_unknown_tag", {"tag": "shout"}),
    ("{{ customer.name ! }}", "template_unexpected", {"token": "!"}),
    ("{{ customer | }}", "template_unexpected", {"token": "}}"}),
    ("{{ }}", "template_no_expression", {}),
    ("{% raw %}{{ not read", "template_unclosed", {"end": "{% endraw %}"}),
    ("{% include 'footer' %}", "template_tag_refused", {"tag": "include"}),
    ("{% macro hi() %}hi{% endmacro %}", "template_tag_refused", {"tag": "macro"}),
    ("{{ customer.name | shout }}", "template_unknown_filter", {"filter": "shout", "column": 20}),
    ("{{ customer.name is shouty }}", "template_unknown_test", {"test": "shouty", "column": 21}),
    ("{% set 1 = 2 %}", "template_cannot_assign", {}),
    ("{% block a %}{% endblock %}" * 2, "template_block_twice", {"block": "a"}),
]


@pytest.mark.parametrize(("text", "reason", "values"), CASES)
def test_a_syntax_error_is_named_for_the_page(
    text: str, reason: str, values: dict[str, str]
) -> None:
    with pytest.raises(templates.TemplateError) as refused:
        templates.check(text, field="message.text.en")
    assert refused.value.reason == reason
    limits = refused.value.limits or {}
    assert {key: limits[key] for key in values} == values
    assert limits["line"] == 1 and "detail" in limits  # Jinja's words stay for the log


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("reason", sorted({reason for _, reason, _ in CASES} | {"template"}))
def test_every_reason_is_worded_in_both_languages(locale: str, reason: str) -> None:
    worded = messages(locale)[f"reason_{reason}"]
    assert "{line}" in worded and "{column}" in worded
    if locale == "zh":
        assert "Template" not in worded and "expected" not in worded


def test_a_template_too_long_for_everyone_is_refused_when_saved() -> None:
    """It was saved, and then every recipient was skipped `template_error` when sending."""
    loop = "{% for i in range(1000) %}" + "x" * 50 + "{% endfor %}"
    with pytest.raises(templates.TemplateError) as refused:
        templates.check(loop, field="message.text.en")
    assert refused.value.reason == "template_output_too_long"
    assert refused.value.field == "message.text.en"
    assert refused.value.limits == {"max_length": templates.MAX_OUTPUT}
    for locale in ("en", "zh"):
        assert "{max_length}" in messages(locale)["reason_template_output_too_long"]
    templates.check("{% for i in range(10) %}x{% endfor %}", field="message.text.en")


@pytest.mark.parametrize("text", ["{{ customer.name | truncate(-5) }}", "Hi {{ cycler() }}"])
def test_a_template_that_fails_whatever_the_customer_is_refused_when_saved(text: str) -> None:
    """Jinja's own error (a filter's assertion, an empty `cycler`) is no customer's data."""
    with pytest.raises(templates.TemplateError) as refused:
        templates.check(text, field="message.text.en")
    assert (refused.value.reason, refused.value.field) == (
        "template_fails_always",
        "message.text.en",
    )
    assert refused.value.limits and refused.value.limits["detail"]
    for locale in ("en", "zh"):
        assert "{detail}" in messages(locale)["reason_template_fails_always"]


@pytest.mark.parametrize(
    "text",
    [
        "{{ customer.attributes.city }}",  # the sample customer has no attributes
        "{{ 10 // customer.tags | length }}",  # nor tags
        "{% if customer.tags %}{{ cycler() }}{% endif %}",  # a branch it does not take
    ],
)
def test_a_template_that_fails_for_a_customer_like_the_sample_is_saved(text: str) -> None:
    templates.check(text, field="message.text.en")
