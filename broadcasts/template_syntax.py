"""Why Jinja refused a template, as a reason and values a page words in its own language.

Jinja's messages are English sentences ("unexpected '}'"); a marketer using the Chinese
page must read the mistake in Chinese too, so the common ones are recognised here and
named (`template_unexpected` with the `token`, `template_unclosed`, …). Anything else keeps
the plain `template` reason with Jinja's words as `detail`.
"""

from __future__ import annotations

import re

# Jinja's names for the tokens a marketer typed, as they appear in the template.
_TOKENS = {
    "end of print statement": "}}",
    "end of statement block": "%}",
    "begin of print statement": "{{",
    "begin of statement block": "{%",
    "end of template": "",
}

_REFUSED = re.compile(r"\{% (.+?) %\} is not available in messages")  # kith.broadcasts.templates
_BLOCK = re.compile(r"innermost block that needs to be closed is '(\w+)'")
_UNKNOWN_TAG = re.compile(r"Encountered unknown tag '(\w+)'")
_UNEXPECTED_CHAR = re.compile(r"unexpected char (['\"])(.)\1")
_UNEXPECTED = re.compile(r"unexpected '(.+?)'")
_EXPECTED = re.compile(r"expected '(.+?)'")
_EXPECTED_GOT = re.compile(r"expected token '.+?', got '(.+?)'")
_UNKNOWN_FILTER = re.compile(r"No (filter|test) named '(\w+)'")
_TWICE = re.compile(r"block '(\w+)' defined twice")


def _token(name: str) -> str:
    return _TOKENS.get(name, name)


def classify(message: str) -> tuple[str, dict[str, str]]:
    """The reason for Jinja's `message`, with the values its wording needs."""
    if message.lower().startswith("unexpected end of template"):
        block = _BLOCK.search(message)
        if block:
            return "template_block_unclosed", {"block": block[1], "end": f"end{block[1]}"}
        expected = _EXPECTED.search(message)
        return "template_unclosed", {"end": _token(expected[1]) if expected else "}}"}
    if message.startswith("Missing end of comment tag"):
        return "template_unclosed", {"end": "#}"}
    if message.startswith("Missing end of raw directive"):
        return "template_unclosed", {"end": "{% endraw %}"}
    found = _REFUSED.match(message)
    if found:
        return "template_tag_refused", {"tag": found[1]}
    if message.startswith("Expected an expression"):
        return "template_no_expression", {}
    found = _UNKNOWN_TAG.match(message)
    if found:
        return "template_unknown_tag", {"tag": found[1]}
    found = _UNKNOWN_FILTER.match(message)
    if found:
        return f"template_unknown_{found[1]}", {found[1]: found[2]}
    if message.startswith("can't assign to"):
        return "template_cannot_assign", {}
    found = _TWICE.match(message)
    if found:
        return "template_block_twice", {"block": found[1]}
    found = _UNEXPECTED_CHAR.match(message)
    if found:
        return "template_unexpected", {"token": found[2]}
    found = _UNEXPECTED.match(message) or _EXPECTED_GOT.match(message)
    if found and _token(found[1]):
        return "template_unexpected", {"token": _token(found[1])}
    return "template", {"detail": message}
