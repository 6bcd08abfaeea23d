"""Which CSV column fills which customer field, and one row read through that mapping.

Targets: `id` (Kith's own customer id, as our export writes it: a re-imported, edited export
updates its customers instead of adding them again; an id Kith does not hold is ignored, so a
foreign system's `id` column never matches), `name`, `email`, `phone`, `external_id` (the
customer's id in the system the file comes from, kept as `attributes.external_id` so segments
and exports see it), `locale`,
`timezone`, `tags` (split on a separator), `attributes.<key>` and `consent.<channel type>`.
Several columns may feed `email`, `phone` and `tags`. Without a mapping, columns named like a
target (in English or Chinese: `Email`, `邮箱`, `手机` …) are taken; the others are ignored,
each named with why (`Ignored`), so a typo (`consent.sms`, `attributes.first name`) is told
rather than its data lost without a word, as HubSpot's and Mautic's imports list the columns
they will not import. A row is read whole or refused: each bad cell is an error naming its
column, with a code saying why (`BadCell`), and the row is left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kith.contacts.normalize import normalize_email, normalize_phone
from kith.core.errors import InvalidInput
from kith.core.jobs import JobError
from kith.core.languages import check_locale
from kith.core.models import ConsentState
from kith.core.tags import fold_tags
from kith.core.timers import zone
from kith.segments.filters import ATTRIBUTE_KEY

SIMPLE_TARGETS = ("id", "name", "email", "phone", "external_id", "locale", "timezone", "tags")
REPEATABLE = frozenset({"email", "phone", "tags"})
ALIASES: dict[str, str] = {
    **{t: t for t in SIMPLE_TARGETS},
    "full name": "name",
    "姓名": "name",
    "名字": "name",
    "emails": "email",
    "e-mail": "email",
    "邮箱": "email",
    "电子邮件": "email",
    "phones": "phone",
    "mobile": "phone",
    "手机": "phone",
    "手机号": "phone",
    "电话": "phone",
    "language": "locale",
    "语言": "locale",
    "时区": "timezone",
    "标签": "tags",
}
CONSENT_WORDS: dict[str, ConsentState] = {
    **{w: ConsentState.granted for w in ("granted", "yes", "y", "true", "1", "是", "同意")},
    **{w: ConsentState.revoked for w in ("revoked", "no", "n", "false", "0", "否", "拒绝")},
    "unknown": ConsentState.unknown,
}
DEFAULT_TAG_SEPARATORS = ",，;；|"
INJECTION_MARK = re.compile(r"^'(?=[=+\-@])")  # our own export's guard, taken off again
MAX_NAME = 256
MAX_VALUE = 1024


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    target: str


# Why a column is left out: codes the job document carries, the page words them.
UNKNOWN_FIELD = "unknown_field"
UNKNOWN_CONSENT_CHANNEL = "unknown_consent_channel"
BAD_ATTRIBUTE_NAME = "bad_attribute_name"
NOT_IN_MAPPING = "not_in_mapping"
NO_HEADER = "no_header"
READ_ONLY = "read_only"
EXPORT_ONLY = frozenset({"channels", "first_seen", "last_seen"})  # our export's, Kith's to keep

# Why a cell is refused: codes the job's row errors carry, the page words them.
BAD_EMAIL = "bad_email"
BAD_PHONE = "bad_phone"  # params: region, the country a number without its code is read in
BAD_LOCALE = "bad_locale"
BAD_TIMEZONE = "bad_timezone"
BAD_CONSENT = "bad_consent"
TOO_LONG = "too_long"  # params: max, in characters


@dataclass(frozen=True)
class Ignored:
    """A column of the file no customer field takes: where, a code, and why in words."""

    index: int
    header: str
    code: str
    message: str


class BadCell(ValueError):
    """Why a cell is refused: a code, the values its wording needs, and the why in words."""

    def __init__(self, code: str, message: str, **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, str | int | list[str]] = dict(params)


def _problem(target: str, channel_types: list[str]) -> tuple[str, str] | None:
    """Why `target` is nothing a column can fill (a code and words), or None."""
    if target in SIMPLE_TARGETS:
        return None
    if target in EXPORT_ONLY:
        return READ_ONLY, f"{target} is kept by Kith: exported, not imported"
    prefix, dot, key = target.partition(".")
    if dot and prefix == "attributes":
        if ATTRIBUTE_KEY.match(key):
            return None
        message = f"{key!r} is not allowed as an attribute name: letters, digits, _ and -"
        return BAD_ATTRIBUTE_NAME, message
    if dot and prefix == "consent":
        if key in channel_types:
            return None
        types = ", ".join(sorted(channel_types))
        return UNKNOWN_CONSENT_CHANNEL, f"no channel type {key!r} (consent.<{types}>)"
    return UNKNOWN_FIELD, (
        f"unknown field {target!r}: use {', '.join(SIMPLE_TARGETS)}, attributes.<key> "
        f"or consent.<channel type> ({', '.join(sorted(channel_types))})"
    )


def _by_name(header: list[str], types: list[str]) -> tuple[list[Column], list[Ignored]]:
    """Without a mapping: the columns named like a target, and the others with why."""
    columns, ignored = [], []
    for n, name in enumerate(header):
        if not name:
            ignored.append(Ignored(n, name, NO_HEADER, f"column {n + 1} has no name"))
            continue
        target = ALIASES.get(name.lower(), name)
        problem = _problem(target, types)
        if problem is None:
            columns.append(Column(n, name, target))
        else:
            ignored.append(Ignored(n, name, *problem))
    return columns, ignored


def _mapped(
    header: list[str], mapping: Mapping[str, str], types: list[str]
) -> tuple[list[Column], list[Ignored]]:
    """With a mapping: its columns, each checked, and the file's others as not mapped."""
    positions = {name: n for n, name in reversed(list(enumerate(header)))}
    columns = []
    for name, target in mapping.items():
        if name not in positions:
            raise InvalidInput("the file has no such column", field=f"mapping.{name}")
        problem = _problem(target, types)
        if problem is not None:
            raise InvalidInput(problem[1], field=f"mapping.{name}")
        columns.append(Column(positions[name], name, target))
    taken = {c.index for c in columns}
    ignored = [
        Ignored(n, name, NOT_IN_MAPPING, "not in the mapping")
        if name
        else Ignored(n, name, NO_HEADER, f"column {n + 1} has no name")
        for n, name in enumerate(header)
        if n not in taken
    ]
    return columns, ignored


def guess_columns(
    header: list[str], channel_types: Iterable[str]
) -> list[tuple[int, str, str | None, Ignored | None]]:
    """Each column as an import without a mapping would take it: its position, header, and
    the field it fills, or why it is left out (what the page's mapping step starts from)."""
    columns, ignored = _by_name(header, list(channel_types))
    guessed: list[tuple[int, str, str | None, Ignored | None]] = [
        (c.index, c.header, c.target, None) for c in columns
    ]
    guessed += [(i.index, i.header, None, i) for i in ignored]
    return sorted(guessed, key=lambda g: g[0])


def build_columns(
    header: list[str], mapping: Mapping[str, str] | None, channel_types: Iterable[str]
) -> tuple[list[Column], list[Ignored]]:
    """The columns to read and those left out, checked before any row is: a mapping naming
    a column the file lacks, or a target Kith does not know, is refused naming
    `mapping.<column>`; a file no column of which is taken is refused naming why."""
    types = list(channel_types)
    if mapping is None:
        columns, ignored = _by_name(header, types)
    else:
        columns, ignored = _mapped(header, mapping, types)
    taken: dict[str, str] = {}
    for column in columns:
        if column.target in taken and column.target not in REPEATABLE:
            message = f"{column.target} is already filled by column {taken[column.target]!r}"
            raise InvalidInput(message, field=f"mapping.{column.header}")
        taken[column.target] = column.header
    if not columns:
        why = "; ".join(f"{i.header or i.index + 1}: {i.message}" for i in ignored[:5])
        named = ", ".join(i.header or str(i.index + 1) for i in ignored[:5])
        raise InvalidInput(
            f"no column maps to a customer field ({why})",
            field="mapping",
            reason="no_column",
            limits={"columns": named},
        )
    return columns, ignored


@dataclass
class RowData:
    """One row's values, normalised."""

    kith_id: str | None = None
    name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    external_id: str | None = None
    locale: str | None = None
    timezone: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    consent: dict[str, ConsentState] = field(default_factory=dict)

    def keys(self) -> list[tuple[str, str]]:
        """What finds this customer among those already stored, strongest first."""
        found = [("_id", self.kith_id)] if self.kith_id else []
        found += [("attributes.external_id", self.external_id)] if self.external_id else []
        return [
            *found,
            *(("emails", e) for e in self.emails),
            *(("phones", p) for p in self.phones),
        ]


@dataclass(frozen=True)
class RowReader:
    columns: list[Column]
    phone_region: str
    tag_separators: str = DEFAULT_TAG_SEPARATORS

    def read(self, cells: list[str]) -> RowData | list[JobError] | None:
        """The row's data, or every bad cell of it as an error (in the file's column order: one
        import tells all there is to fix, as Mautic's and HubSpot's do), or None for a blank
        row. A row with any bad cell is none of the customer's data."""
        if not any(c.strip() for c in cells):
            return None
        row = RowData()
        errors: list[tuple[int, JobError]] = []
        for column in self.columns:
            raw = cells[column.index].strip() if column.index < len(cells) else ""
            if not raw:
                continue
            try:
                self._fill(row, column.target, INJECTION_MARK.sub("", raw))
            except BadCell as exc:
                error = JobError(
                    column=column.header, code=exc.code, params=exc.params, message=str(exc)
                )
                errors.append((column.index, error))
        if errors:
            return [error for _, error in sorted(errors, key=lambda e: e[0])]
        return row

    def _fill(self, row: RowData, target: str, raw: str) -> None:
        simple: dict[str, Callable[[RowData, str], None]] = {
            "id": _kith_id,
            "name": _name,
            "email": _emails,
            "phone": lambda r, v: _phones(r, v, self.phone_region),
            "external_id": _external_id,
            "locale": _locale,
            "timezone": _timezone,
            "tags": lambda r, v: _tags(r, v, self.tag_separators),
        }
        if target in simple:
            simple[target](row, raw)
            return
        prefix, _, key = target.partition(".")
        if prefix == "attributes":
            _at_most(raw, MAX_VALUE, "an attribute is")
            row.attributes[key] = raw
            return
        state = CONSENT_WORDS.get(raw.lower())
        if state is None:
            raise BadCell(BAD_CONSENT, "consent is granted/revoked/unknown (or yes/no, 是/否)")
        row.consent[key] = state


def _split(raw: str, separators: str) -> list[str]:
    return [p.strip() for p in re.split(f"[{re.escape(separators)}]", raw) if p.strip()]


def _at_most(raw: str, limit: int, what: str) -> None:
    if len(raw) > limit:
        raise BadCell(TOO_LONG, f"{what} at most {limit} characters", max=limit)


def _name(row: RowData, raw: str) -> None:
    _at_most(raw, MAX_NAME, "a name is")
    row.name = raw


def _emails(row: RowData, raw: str) -> None:
    for part in _split(raw, ";；"):
        try:
            email = normalize_email(part)
        except ValueError as exc:
            raise BadCell(BAD_EMAIL, str(exc)) from None
        row.emails = list(dict.fromkeys([*row.emails, email]))


def _phones(row: RowData, raw: str, region: str) -> None:
    for part in _split(raw, ";；"):
        try:
            phone = normalize_phone(part, region)
        except ValueError as exc:
            raise BadCell(BAD_PHONE, str(exc), region=region) from None
        row.phones = list(dict.fromkeys([*row.phones, phone]))


def _kith_id(row: RowData, raw: str) -> None:
    _at_most(raw, 64, "a Kith customer id is")
    row.kith_id = raw or None


def _external_id(row: RowData, raw: str) -> None:
    _at_most(raw, 256, "an external id is")
    row.external_id = raw


def check_timezone(raw: str) -> str:
    """`raw` if it is an IANA time zone this machine knows (quiet hours are kept in it)."""
    zone(raw)
    return raw


def _locale(row: RowData, raw: str) -> None:
    try:
        row.locale = check_locale(raw)
    except ValueError as exc:
        raise BadCell(BAD_LOCALE, str(exc)) from None


def _timezone(row: RowData, raw: str) -> None:
    try:
        row.timezone = check_timezone(raw)
    except ValueError as exc:
        raise BadCell(BAD_TIMEZONE, str(exc)) from None


def _tags(row: RowData, raw: str, separators: str) -> None:
    tags = fold_tags(_split(raw, separators))  # one tag whatever its case (`kith.core.tags`)
    for tag in tags:
        _at_most(tag, 64, "tags are")
    row.tags = list(dict.fromkeys([*row.tags, *tags]))
