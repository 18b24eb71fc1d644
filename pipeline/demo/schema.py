"""The column contract (``pipeline.contract``) in the demo's terms: Arrow schemas and value codes.

The generator keeps categorical columns as small integer codes (an index into the contract's
tuple of allowed values) and writes them as strings; every code, every per-channel weight
vector and every Parquet schema here is derived from the contract, so its order and its
values are stated once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from ..contract import CHANNELS, ENTITIES, INTERACTION_TYPES, OUTCOMES, SR_STATUSES

# The Parquet type the demo writes for each ``Col.kind`` of the contract. Timestamps carry no
# offset: the contract reads them as local time (the city profile's time zone).
ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "ts": pa.timestamp("us"),
    "date": pa.date32(),
    "seconds": pa.int32(),
    "count": pa.int64(),
    "bool": pa.bool_(),
    "coord": pa.float64(),
    "channel": pa.string(),
    "itype": pa.string(),
    "outcome": pa.string(),
    "status": pa.string(),
}


# Optional contract columns the demo's (Toronto-like) source system does not export: it
# delivers each SR once, so no updated_at is needed to tell its versions apart, and its SRs
# carry no due date of their own (the service standards decide on-time).
NOT_EXPORTED = ("due_at", "updated_at")


def arrow_schema(entity: str) -> pa.Schema:
    """The Arrow schema of an entity's extract: the contract's columns, in its order (without
    those in NOT_EXPORTED)."""
    return pa.schema([(col.name, ARROW_TYPES[col.kind]) for col in ENTITIES[entity]
                      if col.name not in NOT_EXPORTED])


INTERACTIONS_SCHEMA = arrow_schema("interactions")
SERVICE_REQUESTS_SCHEMA = arrow_schema("service_requests")
KB_VIEWS_SCHEMA = arrow_schema("kb_views")

# value codes: the index of the value in the contract's tuple
PHONE, EMAIL, CHAT, INPERSON = (CHANNELS.index(c) for c in ("phone", "email", "live_chat", "in_person"))
N_CHANNELS = len(CHANNELS)
GI, SRI, SU = (INTERACTION_TYPES.index(t) for t in ("general_inquiry", "service_request", "status_update"))
ANSWERED, ABANDONED = (OUTCOMES.index(o) for o in ("answered", "abandoned"))
ST_INIT, ST_PROG, ST_CLOSED, ST_CANC, ST_UNKNOWN = (
    SR_STATUSES.index(s) for s in ("initiated", "in_progress", "closed", "cancelled", "unknown")
)


def by_channel(values: Mapping[str, float]) -> np.ndarray:
    """A per-channel vector in the contract's channel order; every channel must be given."""
    if set(values) != set(CHANNELS):
        raise ValueError(f"channels {sorted(set(values) ^ set(CHANNELS))} given or missing")
    return np.array([values[c] for c in CHANNELS], float)
