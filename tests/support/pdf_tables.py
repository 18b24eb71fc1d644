"""How a tagged PDF's table headers read to a screen reader: the counts that
``pipeline/report/pdf_tags.py`` must get right (a ``/Scope`` on every TH, an ``/IDTree`` that
resolves every TD's ``/Headers``).

The structure tree is read with pikepdf through ``a11y.iter_struct_elems``, independently of
the module under test."""

from __future__ import annotations

import io
import itertools
import os
from collections import Counter
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, String

from tests.support.a11y import iter_struct_elems, struct_role


def attribute_dicts(elem: pikepdf.Object) -> list[pikepdf.Object]:
    """The attribute objects of ``/A`` (a dictionary, or an array with revision numbers)."""
    attrs = elem.get("/A")
    if isinstance(attrs, Dictionary):
        return [attrs]
    if isinstance(attrs, Array):
        return [a for a in attrs if isinstance(a, Dictionary)]
    return []


def read_name_tree(node: pikepdf.Object | None) -> list[tuple[bytes, pikepdf.Object]] | None:
    """(key, value) pairs of a name tree in tree order, or None if there is no tree."""
    if not isinstance(node, Dictionary):
        return None
    out: list[tuple[bytes, pikepdf.Object]] = []
    seen: set[tuple[int, int]] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_indirect:
            if current.objgen in seen:
                continue
            seen.add(current.objgen)
        names = current.get("/Names")
        if isinstance(names, Array):
            out += [(bytes(names[i]), names[i + 1]) for i in range(0, len(names) - 1, 2)]
        kids = current.get("/Kids")
        if isinstance(kids, Array):
            stack.extend(reversed(list(kids)))
    return out


def table_semantics_report(pdf: bytes | str | os.PathLike) -> dict:
    """Counts about table headers in a tagged PDF (bytes, or a path).

    ``th``, ``th_with_scope``, ``th_scope_column``, ``th_scope_row``; ``ids`` (structure
    elements with ``/ID``) and ``duplicate_ids`` (ids carried by more than one element, each
    counted once); ``headers_refs`` (entries of ``/Headers`` arrays) and ``unresolved`` (those
    the ``/IDTree`` does not map to an element carrying that ``/ID``); ``id_tree`` (present),
    ``id_tree_entries``, ``id_tree_sorted`` (keys strictly ascending in tree order) and
    ``ids_not_in_tree`` (elements whose ``/ID`` the tree does not map to them).
    Acceptance: ``th_with_scope == th`` and ``unresolved == duplicate_ids ==
    ids_not_in_tree == 0`` and ``id_tree_sorted``.
    """
    data = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    with pikepdf.open(io.BytesIO(data)) as doc:
        root = doc.Root.get("/StructTreeRoot")
        elems = list(iter_struct_elems(doc))
        ths = [e for e in elems if struct_role(doc, e) == "TH"]
        ids = [(bytes(e.ID), e) for e in elems if isinstance(e.get("/ID"), String)]
        header_refs = [bytes(h) for e in elems for attrs in [e, *attribute_dicts(e)]
                       if isinstance(attrs.get("/Headers"), Array)
                       for h in attrs.Headers if isinstance(h, String)]
        entries = read_name_tree(root.get("/IDTree")) if root is not None else None
        keys = [key for key, _ in entries or []]
        lookup = dict(entries or [])

        def resolves(key: bytes) -> bool:
            target = lookup.get(key)
            return (isinstance(target, Dictionary) and isinstance(target.get("/ID"), String)
                    and bytes(target.ID) == key)

        def maps_to(key: bytes, elem: pikepdf.Object) -> bool:
            target = lookup.get(key)
            return (target is not None and target.is_indirect and elem.is_indirect
                    and target.objgen == elem.objgen)

        scopes = Counter(str(a.Scope) for th in ths for a in attribute_dicts(th) if "/Scope" in a)
        id_counts = Counter(key for key, _ in ids)
        return {
            "th": len(ths),
            "th_with_scope": sum(any("/Scope" in a for a in attribute_dicts(th)) for th in ths),
            "th_scope_column": scopes["/Column"],
            "th_scope_row": scopes["/Row"],
            "ids": len(ids),
            "duplicate_ids": sum(1 for n in id_counts.values() if n > 1),
            "headers_refs": len(header_refs),
            "unresolved": sum(not resolves(key) for key in header_refs),
            "id_tree": entries is not None,
            "id_tree_entries": len(keys),
            "id_tree_sorted": all(a < b for a, b in itertools.pairwise(keys)),
            "ids_not_in_tree": sum(not maps_to(key, elem) for key, elem in ids),
        }
