"""Contacts tests reuse the API's fixtures: a token and an API channel per workspace."""

from __future__ import annotations

from tests.api.conftest import ApiSetup, api, make_setup, other_api

__all__ = ["ApiSetup", "api", "make_setup", "other_api"]
