"""Courtesy as a feature: the per-day slot counters (kept three days) and the settings API."""

from __future__ import annotations

from kith.core.collection import IndexOptions
from kith.core.features import CustomerData, Feature, Index
from kith.courtesy.api import router
from kith.courtesy.policy import SLOTS

feature = Feature(
    name="courtesy",
    indexes=(
        Index(SLOTS, (("purge_at", 1),), IndexOptions(expireAfterSeconds=0)),
        Index(SLOTS, (("customer_id", 1),)),
    ),
    customer_data=(CustomerData(SLOTS),),
    routers=(router,),
)
