"""Table semantics for WeasyPrint's tagged PDFs: an ``/IDTree`` and a ``/Scope`` on every TH.

WeasyPrint 70 (``weasyprint/pdf/tags.py``) gives every ``TH`` structure element an ``/ID``
(``"<table object number>-<row>-<column>"``) and every ``TD`` a ``/Headers`` array of those
ids in its ``/A << /O /Table >>`` attribute object, but it writes no ``/IDTree`` in the
``StructTreeRoot`` (ISO 32000-1 §14.7.2), so no reference resolves, and no ``/Scope`` on a TH
(WeasyPrint issue #2508). pdfua does not check either. This module adds both, after
``write_pdf``, with pikepdf.

Public interface::

    add_table_semantics(pdf, html=None, *, strict=False) -> bytes

(The tests read the result back with ``tests/support/pdf_tables.py``.)

Wiring: ``pdf = add_table_semantics(document.write_pdf(...), html)`` where ``html`` is the very
HTML string WeasyPrint laid out. The output is deterministic: same input, same bytes (the
first half of the trailer ``/ID`` is kept, the second is derived from the content).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

LOGGER = logging.getLogger(__name__)

#: HTML ``scope`` value → PDF ``/Scope`` (ISO 32000-1 Table 349); other values → position rule.
HTML_SCOPES = {"col": "/Column", "colgroup": "/Column", "row": "/Row", "rowgroup": "/Row"}
#: Entries per name-tree node: a flat ``/Names`` array up to this size, else ``/Kids``.
NAME_TREE_NODE_SIZE = 64

_SECTIONS = {"THead": "head", "TBody": "body", "TFoot": "foot"}


# --------------------------------------------------------------------------- structure tree


@dataclass
class _Th:
    elem: pikepdf.Object
    section: str  # 'head', 'body' or 'foot' (of the nearest table), '' outside a table
    row_has_td: bool


@dataclass
class _Fragment:
    """One PDF ``Table`` element: a whole HTML table, or the part of it on one page."""

    # rows of cells: ('th' | 'td', structure element)
    rows: dict[str, list[list[tuple[str, pikepdf.Object]]]] = field(
        default_factory=lambda: {"head": [], "body": [], "foot": []})


@dataclass
class _Tree:
    ths: list[_Th] = field(default_factory=list)
    tables: list[_Fragment] = field(default_factory=list)
    ids: list[tuple[bytes, pikepdf.Object]] = field(default_factory=list)
    header_refs: list[bytes] = field(default_factory=list)


def _role(elem: pikepdf.Object, rolemap: pikepdf.Object | None) -> str:
    role = str(elem.get("/S", "")).lstrip("/")
    seen = set()
    while rolemap is not None and "/" + role in rolemap and role not in seen:
        seen.add(role)
        role = str(rolemap["/" + role]).lstrip("/")
    return role


def _struct_kids(elem: pikepdf.Object) -> list[pikepdf.Object]:
    kids = elem.get("/K")
    if kids is None:
        return []
    kids = list(kids) if isinstance(kids, Array) else [kids]
    return [k for k in kids if isinstance(k, Dictionary) and "/S" in k
            and k.get("/Type") not in (Name.MCR, Name.OBJR)]


def _attribute_dicts(elem: pikepdf.Object) -> list[pikepdf.Object]:
    """The attribute objects of ``/A`` (a dictionary, or an array with revision numbers)."""
    attrs = elem.get("/A")
    if isinstance(attrs, Dictionary):
        return [attrs]
    if isinstance(attrs, Array):
        return [a for a in attrs if isinstance(a, Dictionary)]
    return []


def _has_scope(elem: pikepdf.Object) -> bool:
    return any("/Scope" in a for a in _attribute_dicts(elem))


def _walk(root: pikepdf.Object) -> _Tree:
    """Everything this module needs from the structure tree, in document (depth-first) order."""
    rolemap = root.get("/RoleMap")
    tree = _Tree()
    seen: set[tuple[int, int]] = set()
    # (element, section of the nearest table, current table fragment)
    stack = [(kid, "", None) for kid in reversed(_struct_kids(root))]
    while stack:
        elem, section, fragment = stack.pop()
        if elem.is_indirect:
            if elem.objgen in seen:
                continue
            seen.add(elem.objgen)
        role = _role(elem, rolemap)
        if isinstance(elem.get("/ID"), String):
            tree.ids.append((bytes(elem.ID), elem))
        for attrs in [elem] + _attribute_dicts(elem):
            if isinstance(attrs.get("/Headers"), Array):
                tree.header_refs += [bytes(h) for h in attrs.Headers if isinstance(h, String)]
        kids = _struct_kids(elem)
        if role == "Table":
            fragment, section = _Fragment(), "body"
            tree.tables.append(fragment)
        elif role in _SECTIONS and fragment is not None:
            section = _SECTIONS[role]
        elif role == "TR" and fragment is not None:
            cells = [(_role(k, rolemap).lower(), k) for k in kids]
            fragment.rows[section].append([(r, k) for r, k in cells if r in ("th", "td")])
        elif role == "TH":
            row = elem.get("/P")
            row_has_td = isinstance(row, Dictionary) and _role(row, rolemap) == "TR" and any(
                _role(k, rolemap) == "TD" for k in _struct_kids(row))
            tree.ths.append(_Th(elem, section, row_has_td))
        if role in ("TH", "TD"):
            fragment = None  # a table nested in a cell starts its own fragment
        stack.extend((kid, section, fragment) for kid in reversed(kids))
    return tree


# --------------------------------------------------------------------------- HTML tables


@dataclass
class _HtmlTable:
    # rows of cells: ('th' | 'td', scope attribute or None)
    rows: dict[str, list[list[tuple[str, str | None]]]] = field(
        default_factory=lambda: {"head": [], "body": [], "foot": []})


def _html_tables(html: str | Any) -> list[_HtmlTable]:
    """The tables of ``html`` in document order, parsed as WeasyPrint parses it (tinyhtml5),
    or of the element tree WeasyPrint already parsed (``weasyprint.HTML(...).etree_element``)."""
    if isinstance(html, str):
        import tinyhtml5

        root = tinyhtml5.parse(html, namespace_html_elements=False)
    else:
        root = html
    tables = []
    for table in root.iter("table"):
        out = _HtmlTable()
        for child in table:
            if child.tag not in ("thead", "tbody", "tfoot", "tr"):
                continue  # caption, colgroup
            section = {"thead": "head", "tfoot": "foot"}.get(child.tag, "body")
            for row in [child] if child.tag == "tr" else [r for r in child if r.tag == "tr"]:
                out.rows[section].append(
                    [(c.tag, c.get("scope")) for c in row if c.tag in ("th", "td")])
        tables.append(out)
    return tables


def _position_scope(section: str, row_has_td: bool) -> str:
    """/Column for a TH in a THead or in a row without data cells, else /Row."""
    return "/Column" if section == "head" or not row_has_td else "/Row"


def _html_scope(cell: tuple[str, str | None], section: str, row: list) -> str:
    scope = HTML_SCOPES.get((cell[1] or "").strip().lower())
    return scope or _position_scope(section, any(tag == "td" for tag, _ in row))


def _align(fragments: list[_Fragment], tables: list[_HtmlTable]) -> dict | None:
    """objgen of each TH → /Scope from its HTML ``<th>``, or None if the structures differ.

    PDF tables and HTML tables are matched in document order. A table split across pages is
    one PDF ``Table`` per page, each with the repeated header (and footer) rows and the next
    body rows: header rows map to the HTML header rows every time, body rows are consumed in
    order. Every matched row must have the same sequence of th/td cells. A ``Table`` without
    rows (WeasyPrint writes one when a table's box starts at the foot of a page and its rows
    go to the next) holds no TH and matches nothing.
    """
    scopes: dict[tuple[int, int], str] = {}
    index, used, current = 0, 0, None
    for fragment in fragments:
        if not any(fragment.rows.values()):
            continue
        if current is None or used >= len(current.rows["body"]):
            if index >= len(tables):
                return None
            current, used, index = tables[index], 0, index + 1
        body = current.rows["body"][used:used + len(fragment.rows["body"])]
        used += len(fragment.rows["body"])
        pairs = [("head", current.rows["head"], fragment.rows["head"]),
                 ("body", body, fragment.rows["body"]),
                 ("foot", current.rows["foot"], fragment.rows["foot"])]
        for section, html_rows, pdf_rows in pairs:
            if len(html_rows) != len(pdf_rows):
                return None
            for html_row, pdf_row in zip(html_rows, pdf_rows, strict=True):
                if [tag for tag, _ in html_row] != [tag for tag, _ in pdf_row]:
                    return None
                for cell, (_, elem) in zip(html_row, pdf_row, strict=True):
                    if cell[0] == "th":
                        scopes[elem.objgen] = _html_scope(cell, section, html_row)
    if index != len(tables) or (current is not None and used != len(current.rows["body"])):
        return None
    return scopes


def _scopes(tree: _Tree, html: str | Any | None, strict: bool) -> dict:
    """objgen of each TH → /Scope: from the HTML if it matches, else from the position."""
    if html is not None:
        tables = _html_tables(html)
        scopes = _align(tree.tables, tables)
        if scopes is not None and set(scopes) == {th.elem.objgen for th in tree.ths}:
            return scopes
        count = sum(tag == "th" for t in tables for rows in t.rows.values() for row in rows
                    for tag, _ in row)
        message = (f"the PDF's {len(tree.ths)} TH elements do not match the HTML's {count} <th> "
                   "cells; /Scope taken from the position (THead or no TD in the row: Column)")
        if strict:
            raise ValueError(message)
        LOGGER.warning(message)
    return {th.elem.objgen: _position_scope(th.section, th.row_has_td) for th in tree.ths}


# --------------------------------------------------------------------------- writing


def _set_scope(elem: pikepdf.Object, scope: str) -> None:
    """Add ``/Scope`` to the ``/O /Table`` attribute object of ``elem`` (created if needed)."""
    attrs = elem.get("/A")
    new = Dictionary(O=Name.Table, Scope=Name(scope))
    if attrs is None:
        elem.A = new
        return
    if isinstance(attrs, Dictionary):
        attrs = Array([attrs])
    for i, item in enumerate(attrs):
        if isinstance(item, Dictionary) and item.get("/O") == Name.Table:
            if "/Scope" in item:
                return
            copy = Dictionary({key: value for key, value in item.items()})  # never shared
            copy.Scope = Name(scope)
            attrs[i] = copy
            break
    else:
        attrs.append(new)
    elem.A = attrs[0] if len(attrs) == 1 else attrs


def _name_tree(pdf: pikepdf.Pdf, items: list[tuple[bytes, pikepdf.Object]]) -> pikepdf.Object:
    """A name tree for sorted ``items``: one flat ``/Names`` node, or balanced ``/Kids``."""
    size = NAME_TREE_NODE_SIZE
    if len(items) <= size:
        return pdf.make_indirect(Dictionary(Names=_names(items)))
    level = [(chunk[0][0], chunk[-1][0], Dictionary(Names=_names(chunk)))
             for chunk in (items[i:i + size] for i in range(0, len(items), size))]
    while len(level) > size:
        level = [(chunk[0][0], chunk[-1][1], Dictionary(Kids=Array([_limited(pdf, n) for n in chunk])))
                 for chunk in (level[i:i + size] for i in range(0, len(level), size))]
    return pdf.make_indirect(Dictionary(Kids=Array([_limited(pdf, n) for n in level])))


def _names(items: list[tuple[bytes, pikepdf.Object]]) -> Array:
    return Array([x for key, value in items for x in (String(key), value)])


def _limited(pdf: pikepdf.Pdf, node: tuple[bytes, bytes, pikepdf.Object]) -> pikepdf.Object:
    """An intermediate or leaf node with its /Limits [first last], as an indirect object."""
    first, last, dictionary = node
    dictionary.Limits = Array([String(first), String(last)])
    return pdf.make_indirect(dictionary)


def _id_tree_complete(root: pikepdf.Object, tree: _Tree) -> bool:
    entries = _read_name_tree(root.get("/IDTree"))
    if entries is None:
        return False
    found = dict(entries)
    return all(key in found and found[key].is_indirect and elem.is_indirect
               and found[key].objgen == elem.objgen for key, elem in tree.ids)


def add_table_semantics(pdf: bytes, html: str | Any | None = None, *, strict: bool = False) -> bytes:
    """``pdf`` (WeasyPrint's tagged PDF) with an ``/IDTree`` and a ``/Scope`` on every TH.

    ``html`` is the HTML WeasyPrint laid out (or the element tree it parsed). Each ``TH`` gets ``/A << /O /Table /Scope ... >>``
    (merged into an existing ``/O /Table`` attribute object, or appended to an ``/A`` array;
    an existing ``/Scope`` is kept): ``/Column`` for ``scope="col"``/``"colgroup"``, ``/Row``
    for ``scope="row"``/``"rowgroup"`` of its ``<th>``. TH elements are matched to ``<th>``
    cells table by table, row by row, in document order (the header rows a table repeats on
    each page it spans map to the same ``<th>`` cells); the match requires the same number
    of TH as matched ``<th>`` and the same th/td sequence in every row.

    Fallback, when ``html`` is None or does not match (``strict=True`` raises ValueError
    instead; otherwise a warning is logged), and for a ``<th>`` without a scope attribute:
    a TH inside a ``THead``, or in a row with no ``TD``, is ``/Column``; any other is ``/Row``.

    The ``/IDTree`` maps every structure element ``/ID`` to its (indirect) element; keys are
    sorted bytewise; a duplicate id keeps its first element (and is logged). An existing
    ``/IDTree`` that resolves every id is kept.

    Returns ``pdf`` itself, unchanged, when there is nothing to do (untagged, or the
    ``/IDTree`` is complete and every TH has a ``/Scope``).
    """
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        root = doc.Root.get("/StructTreeRoot")
        if root is None:
            return pdf
        tree = _walk(root)
        tree_ok = not tree.ids or _id_tree_complete(root, tree)
        missing = [th for th in tree.ths if not _has_scope(th.elem)]
        if tree_ok and not missing:
            return pdf
        if missing:
            scopes = _scopes(tree, html, strict)
            for th in missing:
                _set_scope(th.elem, scopes[th.elem.objgen])
        if not tree_ok:
            unique: dict[bytes, pikepdf.Object] = {}
            for key, elem in tree.ids:
                if key in unique:
                    LOGGER.warning("duplicate structure element /ID %r: kept the first", key)
                elif elem.is_indirect:
                    unique.setdefault(key, elem)
            root.IDTree = _name_tree(doc, sorted(unique.items(), key=lambda item: item[0]))
        out = io.BytesIO()
        # deterministic_id: keeps /ID[0] (WeasyPrint's pdf_identifier), /ID[1] from the content;
        # fix_metadata_version=False: WeasyPrint's XMP (pdfuaid:part) stays byte for byte.
        doc.save(out, deterministic_id=True, fix_metadata_version=False)
        return out.getvalue()


# --------------------------------------------------------------------------- reading the /IDTree


def _read_name_tree(node: pikepdf.Object | None) -> list[tuple[bytes, pikepdf.Object]] | None:
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
