"""What user input must be before it can become part of a stored document.

Names a user chooses (attribute names, languages, weekdays) become document keys, and
numbers become BSON integers: a key with `$`, `.` or a NUL byte is a query operator, a path
or invalid BSON, and an integer beyond 64 bits cannot be stored. These types refuse such
input at the edge, as a 422 naming the field, so that it never reaches the database.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, StringConstraints

KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}$"

DocumentKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
"""A user-chosen name stored as a key: letters, digits, `_` and `-`, up to 64."""

Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
"""An integer BSON can hold."""


def literal_regex(text: str) -> str:
    """`text` as a regex matching itself. A BSON regex cannot hold a NUL byte (which
    `re.escape` leaves as it is), so it is written as the escape `\\x00`."""
    return re.escape(text).replace("\x00", "\\x00")
