"""Security tests reuse the API's and the inbox's fixtures (a token and channel per workspace;
the cast of users in two teams, signed-in clients)."""

from tests.api.conftest import api, other_api  # noqa: F401 (fixtures)
from tests.web.conftest import app, browser, cast, cheap_password_hashing  # noqa: F401 (fixtures)
