"""Open311 GeoReport v2 request lists (``raw/open311/*.json``, ``.json.gz``): each request
becomes a service request (docs/data-contract.md, "Open311 GeoReport v2").

Only the fields below are read. ``description``, ``status_notes``, ``address``, ``address_id``
and ``media_url`` are free text or pointers that may identify people: never read, never stored.
GeoReport v2 has no closing time: a closed request's last update (``updated_datetime``) stands
for it, and the file's notes say so.
"""

from __future__ import annotations

from ..contract import ENTITIES
from .sql import blank_as_null, qi

FIELDS = ["service_request_id", "requested_datetime", "updated_datetime", "expected_datetime", "status",
          "service_name", "agency_responsible", "lat", "long", "zipcode"]
NEVER_READ = ("description", "status_notes", "address", "address_id", "media_url")
CLOSED_AT_NOTE = ("closing times are the last update of each closed request (updated_datetime): "
                  "GeoReport v2 records no closing time")
UNKNOWN_DIVISION = "Unknown"


def columns() -> dict[str, str]:
    """Contract column -> expression over the request's fields (text, blank as NULL)."""
    def v(name: str) -> str:
        return blank_as_null(qi(name))

    status = f"lower({v('status')})"
    exprs = dict.fromkeys((c.name for c in ENTITIES["service_requests"]), "NULL::VARCHAR")
    exprs.update({
        "sr_id": v("service_request_id"),
        "created_at": v("requested_datetime"),
        "status": f"CASE {status} WHEN 'open' THEN 'in_progress' ELSE {status} END",
        "closed_at": f"CASE WHEN {status} = 'closed' THEN {v('updated_datetime')} END",
        "due_at": v("expected_datetime"),
        # a request repeated across feeds: the latest update wins (the delivery order after it)
        "updated_at": v("updated_datetime"),
        "sr_type": v("service_name"),
        "division": f"coalesce({v('agency_responsible')}, '{UNKNOWN_DIVISION}')",
        "latitude": v("lat"),
        "longitude": v("long"),
        # a Canadian postal code's forward sortation area: its first three characters
        "fsa": (rf"CASE WHEN regexp_full_match(upper({v('zipcode')}), '[A-Z]\d[A-Z] ?(\d[A-Z]\d)?') "
                f"THEN upper(left({v('zipcode')}, 3)) END"),
    })
    return exprs
