"""The contacts feature: the import job kind and the indexes imports and exports rely on;
and, apart, the folding of old tags as `kith serve` starts."""

from __future__ import annotations

import functools

from kith.contacts.imports import IMPORT
from kith.contacts.tags import backfill_tags
from kith.core.context import Core
from kith.core.features import Feature, Index

feature = Feature(
    name="contacts",
    jobs=(IMPORT,),
    indexes=(
        Index("customers", (("workspace_id", 1), ("attributes.external_id", 1))),
        Index("import_rows", (("job_id", 1),)),
        Index("import_rows", (("purge_at", 1),), {"expireAfterSeconds": 0}),
        Index("import_firsts", (("job_id", 1), ("customers", 1))),
        Index("import_firsts", (("purge_at", 1),), {"expireAfterSeconds": 0}),
    ),
)


def tag_folding(core: Core) -> Feature:
    """The start-up work on contacts that needs a `Core`: folding the tags stored before tags
    were folded (`kith.contacts.tags`). Apart from `feature`, which tests install on a bare
    core without starting it."""
    return Feature(name="contact_tags", background=(functools.partial(backfill_tags, core),))
