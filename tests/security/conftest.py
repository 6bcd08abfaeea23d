"""Security tests reuse the API's, the channels' and the inbox's own fixtures (a token and
channel per workspace; the web chat's app, admin and channel; the inbox's cast of users in two
teams, hashed at argon2's lowest cost).

`present_day` (autouse) moves the manual clock to the wall clock: the embedded engine expires
TTL-indexed documents (rate-limit buckets, used nonces) by real time.
"""

from tests.api.conftest import api, other_api  # noqa: F401 (fixtures, found by name)
from tests.bots.conftest import bots  # noqa: F401 (a fixture, found by name)
from tests.connectors.webchat.conftest import (  # noqa: F401 (fixtures, found by name)
    admin,
    kith_app,
    present_day,
    webchat,
)
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    app,
    browser,
    cast,
    cheap_password_hashing,
)
