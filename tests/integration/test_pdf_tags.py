"""Table semantics added to WeasyPrint's PDF/UA-1 output (pipeline/report/pdf_tags.py): an
/IDTree that resolves the TD /Headers references, and a /Scope on every TH.

The PDFs are rendered here by WeasyPrint from small HTML documents; the checks read them
back with pikepdf only (the tree is read independently of the module under test).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from pipeline.report.pdf_tags import add_table_semantics
from tests.support import a11y
from tests.support.pdf_tables import table_semantics_report

HAND_TITLE = "Contacts by channel"
HAND_HTML = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{HAND_TITLE}</title></head>
<body><main><h1>{HAND_TITLE}</h1>
<table>
<caption>Contacts by channel, 2023 and 2024</caption>
<thead><tr><th scope="col">Channel</th><th scope="col">2023</th><th scope="col">2024</th></tr></thead>
<tbody>
<tr><th scope="row">Phone</th><td>1,200</td><td>1,350</td></tr>
<tr><th scope="row">Web</th><td>800</td><td>950</td></tr>
</tbody>
</table></main></body></html>
"""
# Worked out by hand. WeasyPrint numbers the cells by row i and column j (ids
# "<table object number>-<i>-<j>"):
#              j=0                  j=1              j=2
#   i=0 thead  th col "Channel"     th col "2023"    th col "2024"
#   i=1 tbody  th row "Phone"       td "1,200"       td "1,350"
#   i=2 tbody  th row "Web"         td "800"         td "950"
# /Scope follows the HTML scope: col → /Column, row → /Row.
HAND_SCOPES = [("Channel", "/Column"), ("2023", "/Column"), ("2024", "/Column"),
               ("Phone", "/Row"), ("Web", "/Row")]
# A TD's /Headers are the row headers of its row, then the column headers of its column.
HAND_HEADERS = [("1,200", ["Phone", "2023"]), ("1,350", ["Phone", "2024"]),
                ("800", ["Web", "2023"]), ("950", ["Web", "2024"])]

REAL_TITLE = "Kensington Market BIA – 311 service requests, July 2024 (synthetic demo data)"
WEEKS = 52


def real_html() -> str:
    """A BIA-like report on A6 pages: a small table, then a weekly table over three pages
    (WeasyPrint repeats its thead and tfoot on each page: one PDF Table per page)."""
    rows = "\n".join(f'<tr><th scope="row">Week {w}</th><td>{100 + 7 * w:,}</td><td>{40 + w}%</td></tr>'
                     for w in range(1, WEEKS + 1))
    return f"""<!DOCTYPE html>
<html lang="en-CA"><head><meta charset="utf-8"><title>{REAL_TITLE}</title>
<style>@page {{ size: A6; margin: 10mm }} body {{ font: 9pt sans-serif }}
th, td {{ padding: 1pt 4pt }}</style></head>
<body><header><p>311 Toronto</p></header>
<main id="main"><h1>Kensington Market BIA</h1><p>Service requests in the BIA, July 2024.</p>
<table id="table-status"><caption>Requests by status</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Requests</th></tr></thead>
<tbody><tr><th scope="row">Open</th><td>12</td></tr><tr><th scope="row">Closed</th><td>30</td></tr></tbody>
</table>
<h2>Weekly trend</h2>
<table id="table-trend"><caption>Requests by week</caption>
<thead><tr><th scope="col">Week</th><th scope="col">Requests</th><th scope="col">Closed on time</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><th scope="row">Total</th><td>9,999</td><td>77%</td></tr></tfoot>
</table></main>
<footer><p>Synthetic demo data.</p></footer></body></html>
"""


def render(html: str) -> bytes:
    """PDF/UA-1 as the pipeline writes it (pipeline/report/pdf.py: a fixed document identifier)."""
    import weasyprint

    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=identifier)


@pytest.fixture(scope="module")
def hand() -> dict:
    raw = render(HAND_HTML)
    return {"raw": raw, "out": add_table_semantics(raw, HAND_HTML, strict=True)}


@pytest.fixture(scope="module")
def real() -> dict:
    html = real_html()
    raw = render(html)
    return {"html": html, "raw": raw, "out": add_table_semantics(raw, html, strict=True)}


# --------------------------------------------------------------------------- reading helpers


def open_pdf(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def elements(pdf: pikepdf.Pdf, role: str) -> list[pikepdf.Object]:
    return [e for e in a11y.iter_struct_elems(pdf) if e.S == Name("/" + role)]


def table_attrs(elem: pikepdf.Object) -> pikepdf.Object:
    """The /O /Table attribute object of a TH or TD."""
    attrs = elem.A
    items = [attrs] if isinstance(attrs, Dictionary) else [a for a in attrs if isinstance(a, Dictionary)]
    (table,) = [a for a in items if a.get("/O") == Name.Table]
    return table


def tree_keys(node: pikepdf.Object, is_root: bool = True) -> list[bytes]:
    """Keys of a name tree in tree order, checking each node's /Limits on the way."""
    if "/Names" in node:
        keys = [bytes(node.Names[i]) for i in range(0, len(node.Names), 2)]
    else:
        keys = [k for kid in node.Kids for k in tree_keys(kid, is_root=False)]
    if is_root:
        assert "/Limits" not in node
    else:
        assert [bytes(x) for x in node.Limits] == [keys[0], keys[-1]]
    return keys


def _mcids(elem: pikepdf.Object, page, out: dict) -> None:
    page = elem.get("/Pg", page)
    kids = elem.get("/K")
    for kid in (kids if isinstance(kids, Array) else [kids]) if kids is not None else []:
        if isinstance(kid, int):
            out.setdefault(page.objgen, set()).add(int(kid))
        elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
            out.setdefault(kid.get("/Pg", page).objgen, set()).add(int(kid.MCID))
        elif isinstance(kid, Dictionary) and "/S" in kid:
            _mcids(kid, page, out)


def _to_unicode(font: pikepdf.Object) -> dict[bytes, str]:
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    return {bytes.fromhex(src): bytes.fromhex(dst).decode("utf-16-be")
            for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, flags=re.S)
            for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block)}


def text(pdf: pikepdf.Pdf, elem: pikepdf.Object) -> str:
    """The text drawn by the marked content of ``elem`` (WeasyPrint: 2-byte glyph ids)."""
    wanted: dict = {}
    _mcids(elem, None, wanted)
    out = []
    for page in pdf.pages:
        mcids = wanted.get(page.obj.objgen)
        if not mcids:
            continue
        fonts = {str(name): _to_unicode(font) for name, font in page.Resources.Font.items()}
        font, stack = {}, []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                props = operands[1] if op == "BDC" else None
                stack.append(int(props.MCID) if isinstance(props, Dictionary) and "/MCID" in props else None)
            elif op == "EMC":
                stack.pop()
            elif op == "Tf":
                font = fonts[str(operands[0])]
            elif op in ("Tj", "TJ") and mcids.intersection(stack):
                strings = operands[0] if op == "TJ" else [operands[0]]
                for s in (bytes(s) for s in strings if isinstance(s, String)):
                    out += [font.get(s[i:i + 2], "?") for i in range(0, len(s), 2)]
    return "".join(out).strip()


def id_tree(pdf: pikepdf.Pdf) -> pikepdf.NameTree:
    return pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree)


# --------------------------------------------------------------------------- hand-built table


def test_weasyprint_writes_ids_and_headers_but_no_id_tree_nor_scope(hand):
    # The issue, on the hand-built table: 5 TH with /ID, 8 /Headers references, no /IDTree.
    assert table_semantics_report(hand["raw"]) == {
        "th": 5, "th_with_scope": 0, "th_scope_column": 0, "th_scope_row": 0,
        "ids": 5, "duplicate_ids": 0, "headers_refs": 8, "unresolved": 8,
        "id_tree": False, "id_tree_entries": 0, "id_tree_sorted": True, "ids_not_in_tree": 5,
    }


def test_every_th_has_the_scope_of_its_html_th(hand):
    with open_pdf(hand["out"]) as pdf:
        got = [(text(pdf, th), str(table_attrs(th).Scope)) for th in elements(pdf, "TH")]
    assert got == HAND_SCOPES


def test_every_td_headers_resolve_through_the_id_tree_to_the_th_texts(hand):
    with open_pdf(hand["out"]) as pdf:
        tree = id_tree(pdf)
        got = []
        for td in elements(pdf, "TD"):
            targets = [tree[str(key)] for key in table_attrs(td).Headers]
            assert all(t.S == Name.TH and t.ID == key for t, key in zip(targets, table_attrs(td).Headers,
                                                                         strict=True))
            got.append((text(pdf, td), [text(pdf, t) for t in targets]))
    assert got == HAND_HEADERS


def test_id_tree_keys_are_sorted_unique_and_map_each_element(hand):
    with open_pdf(hand["out"]) as pdf:
        root = pdf.Root.StructTreeRoot
        keys = tree_keys(root.IDTree)
        assert root.IDTree.is_indirect and "/Names" in root.IDTree  # 5 entries: one flat node
        ths = elements(pdf, "TH")
        assert keys == sorted({bytes(th.ID) for th in ths}) and len(keys) == len(ths) == 5
        values = [root.IDTree.Names[i] for i in range(1, len(root.IDTree.Names), 2)]
        assert all(v.is_indirect for v in values)
        assert {v.objgen for v in values} == {th.objgen for th in ths}
    assert table_semantics_report(hand["out"]) == {
        "th": 5, "th_with_scope": 5, "th_scope_column": 3, "th_scope_row": 2,
        "ids": 5, "duplicate_ids": 0, "headers_refs": 8, "unresolved": 0,
        "id_tree": True, "id_tree_entries": 5, "id_tree_sorted": True, "ids_not_in_tree": 0,
    }


def test_output_is_still_pdf_ua_1(hand, tmp_path):
    path = tmp_path / "hand.pdf"
    path.write_bytes(hand["out"])
    assert a11y.pdfua_errors(path) == []
    assert a11y.pdfua_skipped(path) == []
    assert a11y.pdf_document_problems(path, lang="en", title=HAND_TITLE) == []
    with open_pdf(hand["raw"]) as before, open_pdf(hand["out"]) as after:
        # XMP (pdfuaid:part="1") kept byte for byte; the permanent half of /ID kept
        assert after.Root.Metadata.read_bytes() == before.Root.Metadata.read_bytes()
        assert 'pdfuaid:part="1"' in after.Root.Metadata.read_bytes().decode()
        assert after.trailer.ID[0] == before.trailer.ID[0]
        assert len(after.pages) == len(before.pages)


def test_deterministic_and_idempotent(hand):
    assert add_table_semantics(hand["raw"], HAND_HTML) == hand["out"]
    # already done (an /IDTree that resolves every id, a /Scope on every TH): input returned
    assert add_table_semantics(hand["out"], HAND_HTML) is hand["out"]


def test_existing_attributes_are_merged_not_replaced(hand):
    with open_pdf(hand["raw"]) as pdf:
        th = elements(pdf, "TH")
        layout = Dictionary(O=Name.Layout, Placement=Name.Block)
        th[0].A = Dictionary(O=Name.Table, ColSpan=1)  # (WeasyPrint's own form)
        th[1].A = Array([layout, 0])  # attribute array with a revision number
        th[2].A = Dictionary(O=Name.Layout, TextAlign=Name.Center)
        del th[3].A
        th[4].A = pdf.make_indirect(Dictionary(O=Name.Table, Scope=Name.Both))
        buffer = io.BytesIO()
        pdf.save(buffer)
    out = add_table_semantics(buffer.getvalue(), HAND_HTML)
    with open_pdf(out) as pdf:
        got = [th.A for th in elements(pdf, "TH")]
        assert dict(got[0]) == {"/O": Name.Table, "/ColSpan": 1, "/Scope": Name.Column}
        assert [dict(a) if isinstance(a, Dictionary) else int(a) for a in got[1]] == [
            {"/O": Name.Layout, "/Placement": Name.Block}, 0, {"/O": Name.Table, "/Scope": Name.Column}]
        assert [dict(a) for a in got[2]] == [{"/O": Name.Layout, "/TextAlign": Name.Center},
                                             {"/O": Name.Table, "/Scope": Name.Column}]
        assert dict(got[3]) == {"/O": Name.Table, "/Scope": Name.Row}
        assert dict(got[4]) == {"/O": Name.Table, "/Scope": Name.Both}  # an existing /Scope is kept


def test_html_scope_wins_over_position_and_mismatch_falls_back(caplog):
    # A body row whose th says scope="col": the PDF says what the HTML says (/Column), where
    # the position rule (TH in a row with a TD, outside THead → /Row) would say /Row.
    html = HAND_HTML.replace('<th scope="row">Web</th>', '<th scope="col">Web</th>')
    raw = render(html)

    def scopes(pdf_bytes: bytes) -> list[str]:
        with open_pdf(pdf_bytes) as pdf:
            return [str(table_attrs(th).Scope) for th in elements(pdf, "TH")]

    assert scopes(add_table_semantics(raw, html, strict=True))[3:] == ["/Row", "/Column"]
    assert scopes(add_table_semantics(raw, None))[3:] == ["/Row", "/Row"]
    # HTML that does not match the PDF (a th is a td there): fallback to the position, logged
    other = html.replace('<th scope="col">Web</th>', "<td>Web</td>")
    with pytest.raises(ValueError, match="do not match"):
        add_table_semantics(raw, other, strict=True)
    with caplog.at_level(logging.WARNING, logger="pipeline.report.pdf_tags"):
        assert scopes(add_table_semantics(raw, other))[3:] == ["/Row", "/Row"]
    assert "do not match" in caplog.text


def test_a_table_whose_rows_start_on_the_next_page_still_matches():
    # The caption fits at the foot of page 1 and the rows go to page 2: WeasyPrint writes an
    # empty Table on page 1 (as before the annual report's ward table). It holds no TH, so the
    # 2 + 5 TH still match the HTML's <th> cells (strict: no fallback to the position rule).
    rows = "".join(f'<tr><th scope="row">Ward {i}</th><td>{i}</td></tr>' for i in range(5))
    html = ('<!doctype html><html lang="en"><head><title>Wards</title><style>@page { size: A6; '
            "margin: 5mm } body { margin: 0 }</style></head><body><h1>Wards</h1>"
            '<div style="height: 100mm">Text.</div><table><caption>Requests by ward</caption>'
            '<thead><tr><th scope="col">Ward</th><th scope="col">Requests</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></body></html>")
    out = add_table_semantics(render(html), html, strict=True)
    with open_pdf(out) as pdf:
        assert len(pdf.pages) == 2 and len(elements(pdf, "Table")) == 2  # the empty one, the rows
        assert [str(table_attrs(th).Scope) for th in elements(pdf, "TH")] == ["/Column"] * 2 + ["/Row"] * 5


def test_nothing_to_do_returns_the_input():
    raw = render('<html lang="en"><title>No table</title><p>Only text.</p></html>')
    assert add_table_semantics(raw, "") is raw


def test_report_counts_duplicates_and_unresolved_references(hand, tmp_path):
    with open_pdf(hand["out"]) as pdf:
        th, td = elements(pdf, "TH"), elements(pdf, "TD")
        th[4].ID = th[3].ID  # two elements with one id: the tree maps it to one of them
        table_attrs(td[0]).Headers.append(String("no-such-id"))
        del th[0].A
        path = tmp_path / "tampered.pdf"
        pdf.save(path)
    report = table_semantics_report(path)  # a path works too
    assert {k: report[k] for k in ("th", "th_with_scope", "duplicate_ids", "headers_refs",
                                   "unresolved", "ids_not_in_tree")} == {
        "th": 5, "th_with_scope": 4, "duplicate_ids": 1, "headers_refs": 9,
        # "no-such-id", plus the 2 references to th[4]'s old id (no element carries it now)
        "unresolved": 3, "ids_not_in_tree": 1}


# --------------------------------------------------------------------------- realistic report


def test_split_table_repeated_headers_map_to_the_same_html_th(real):
    # thead (3 th col) and tfoot (1 th row) repeat on each of the 3 pages of the weekly table:
    # TH = 2 + 2 (status table) + 3 × 3 (thead) + 52 (weeks) + 3 × 1 (tfoot) = 68 > the <th>
    # count 2 + 2 + 3 + 52 + 1 = 60; strict=True (in the fixture) proved the match.
    assert len(re.findall(r"<th\b", real["html"])) == 60
    report = table_semantics_report(real["out"])
    assert {k: report[k] for k in ("th", "th_with_scope", "th_scope_column", "th_scope_row")} == {
        "th": 68, "th_with_scope": 68, "th_scope_column": 2 + 9, "th_scope_row": 2 + WEEKS + 3}
    # /Headers: status table 2 TD × 2; weekly table (52 + 3) rows × 2 TD × 2 headers
    assert report["headers_refs"] == 4 + (WEEKS + 3) * 2 * 2
    assert report["unresolved"] == report["duplicate_ids"] == report["ids_not_in_tree"] == 0
    assert report["id_tree"] and report["id_tree_sorted"] and report["id_tree_entries"] == 68
    with open_pdf(real["out"]) as pdf:
        assert len(elements(pdf, "Table")) == 4 and len(pdf.pages) == 3
        for th in elements(pdf, "TH"):
            label = text(pdf, th)
            expected = "/Column" if label in ("Status", "Requests", "Week", "Closed on time") else "/Row"
            assert str(table_attrs(th).Scope) == expected, label


def test_large_id_tree_is_balanced_and_readable(real):
    # 68 ids > 64 per node: /Kids of leaves with /Limits; QPDF's own reader finds every id
    with open_pdf(real["out"]) as pdf:
        root = pdf.Root.StructTreeRoot.IDTree
        assert "/Kids" in root and "/Names" not in root
        keys = tree_keys(root)
        assert keys == sorted(set(keys)) and len(keys) == 68
        tree = id_tree(pdf)
        for th in elements(pdf, "TH"):
            assert tree[str(th.ID)].objgen == th.objgen


def test_realistic_report_pdfua_clean_and_deterministic(real, tmp_path):
    path = tmp_path / "real.pdf"
    path.write_bytes(real["out"])
    assert a11y.pdfua_errors(path) == []
    assert a11y.pdfua_skipped(path) == []
    assert a11y.pdf_document_problems(path, lang="en-CA", title=REAL_TITLE) == []
    assert add_table_semantics(real["raw"], real["html"]) == real["out"]
    assert Path(path).read_bytes() == real["out"]
