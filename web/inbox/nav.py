"""The app's navigation: which sections each role sees, in one table.

Every page extending `page_base.html` shows these links (`app_nav.html`); a page passes
`section` to mark itself current. Marketers work on audiences and have no inbox of their
own, so their landing page is Contacts; agents read contacts and answer in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from kith.core.models import Role
from kith.core.permissions import MANAGERS

_ALL = frozenset(Role)


@dataclass(frozen=True)
class Section:
    name: str  # also the i18n key `nav_<name>`
    href: str
    roles: frozenset[Role]


SECTIONS = (
    Section("inbox", "/app", frozenset({Role.admin, Role.agent})),
    Section("tickets", "/app/tickets", frozenset({Role.admin, Role.agent})),
    Section("contacts", "/app/contacts", _ALL),
    Section("segments", "/app/segments", MANAGERS),
    Section("broadcasts", "/app/broadcasts", MANAGERS),
    Section("sequences", "/app/sequences", MANAGERS),
    Section("communities", "/app/communities", _ALL),
    Section("webhooks", "/app/webhooks", frozenset({Role.admin})),
    Section("settings", "/app/admin", frozenset({Role.admin})),
)


def sections_for(role: Role | str) -> list[Section]:
    return [s for s in SECTIONS if role in s.roles]


def may_open(role: Role | str, name: str) -> bool:
    return any(s.name == name for s in sections_for(role))


def landing(role: Role | str) -> str:
    """Where a user lands after signing in: their first section."""
    mine = sections_for(role)
    return mine[0].href if mine else "/app/admin/account"


def manages_contacts(role: Role | str) -> bool:
    """Admins and marketers change contacts (tags, merges, imports); agents only read them."""
    return role in MANAGERS
