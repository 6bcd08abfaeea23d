"""Consent as a feature: the keyword consumer (and the bot's silence on keywords), the API,
and the public unsubscribe page."""

from __future__ import annotations

from kith.consent.api import app_router, router
from kith.consent.keywords import claims_keyword, is_keyword, on_message
from kith.consent.pages import router as pages_router
from kith.core.consumers import Consumer
from kith.core.features import Feature

feature = Feature(
    name="consent",
    consumers=(Consumer("consent", ("message.received",), on_message),),
    answers=(is_keyword,),
    keywords=(claims_keyword,),
    routers=(router, app_router, pages_router),
)
