"""The contacts feature: the import job kind and the indexes imports and exports rely on."""

from __future__ import annotations

from kith.contacts.imports import IMPORT
from kith.core.features import Feature, Index

feature = Feature(
    name="contacts",
    jobs=(IMPORT,),
    indexes=(
        Index("customers", (("workspace_id", 1), ("attributes.external_id", 1))),
        Index("import_rows", (("job_id", 1),)),
        Index("import_rows", (("purge_at", 1),), {"expireAfterSeconds": 0}),
        Index("import_firsts", (("job_id", 1),)),
        Index("import_firsts", (("purge_at", 1),), {"expireAfterSeconds": 0}),
    ),
)
