"""The named 311 contact of each BIA: ``<raw>/reference/bia_liaisons.csv``.

Public interface::

    read_liaisons(raw_dir, key) -> {key(bia_name): Liaison}   # key: batch.typed_name_key
    LiaisonError

The file has the columns ``bia_name,name,title,phone,email`` (``name`` and ``email`` required,
one row per BIA; a name matches the seed ignoring case, spacing and a trailing " BIA", as
``bia_contacts.csv`` does). A BIA report names its liaison under "Your 311 contact"; a BIA the
file does not list (or a run without the file) names the service's public mailbox (the city
profile's ``mail.from``), and the batch's summary lists those BIAs. The contact is a person of
the City's 311 service, never a resident: no personal data of the requests is involved.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CxError

LIAISONS_FILE = Path("reference") / "bia_liaisons.csv"  # in the raw folder
COLUMNS = ("bia_name", "name", "title", "phone", "email")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+$")


class LiaisonError(CxError):
    """``bia_liaisons.csv`` is not valid; the message names the file and line."""


@dataclass(frozen=True)
class Liaison:
    name: str
    title: str
    phone: str
    email: str


def read_liaisons(raw_dir: Path, key: Callable[[str], str]) -> dict[str, Liaison]:
    """key(bia_name) → Liaison ({} without the file); ``key`` is how a typed BIA name is matched
    (``pipeline.bia.batch.typed_name_key``)."""
    path = Path(raw_dir) / LIAISONS_FILE
    if not path.exists():
        return {}
    found: dict[str, Liaison] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"bia_name", "name", "email"} - set(reader.fieldnames or [])
        if missing:
            raise LiaisonError(f"{path}: missing column(s) {', '.join(sorted(missing))} "
                               f"(expected {','.join(COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            values = {k: (row.get(k) or "").strip() for k in COLUMNS}
            if not any(values.values()):
                continue
            if not values["bia_name"] or not values["name"] or not _EMAIL.match(values["email"]):
                raise LiaisonError(f"{path}, line {line}: needs a BIA name, the contact's name and one "
                                   "e-mail address")
            if any(c in v for v in values.values() for c in "\r\n"):
                raise LiaisonError(f"{path}, line {line}: a value holds a line break")
            name_key = key(values["bia_name"])
            if name_key in found:
                raise LiaisonError(f"{path}, line {line}: {values['bia_name']!r} is listed twice (one 311 "
                                   "contact per BIA)")
            found[name_key] = Liaison(values["name"], values["title"], values["phone"], values["email"])
    return found
