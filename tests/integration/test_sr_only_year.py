"""A year of service requests only, end to end (issue 23): a contract-layout CSV in a year
folder, two Open311 GeoReport v2 feeds that repeat two requests, and a made-up city's export
through a mapping that spans 2017 and 2018; no interactions, no knowledge-base views. One real
load and dbt build, then `report --year 2018` and `bia --month 2018-03`.

The documents render what the extracts hold and say once, in one sentence, what they do not
hold: no section, chart, table, contents entry or bookmark for it, no 0 or dash standing for it.
Every expected figure is worked out by hand below. (A year of the City's Open Data, which has no
closing times either, is tests/slow/test_open_data.py.)"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from tests.support import a11y
from tests.support.pdf_text import pdf_words

T = 1_767_225_600  # 1 January 2026, 00:00 UTC: the files' modification times, one minute apart

# raw/2018/service_requests_2018.csv, the contract's columns. C4 is cancelled. Standards (the
# shipped illustrative seed, calendar days): Dead Wildlife Pickup 2, Amplified Sound 5; Graffiti
# has none. C1 is made on 5 March and closed the next day at 15:00 (30 h = 1.25 days; due 7 March:
# on time); C2 takes 4.0 days (due 14 March, closed 16 March: late); C5 0.5 days (on time).
CONTRACT = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward,bia
C1,2018-03-05 09:00:00,2018-03-06 15:00:00,Closed,Dead Wildlife Pickup,Municipal Licensing & Standards,Toronto Animal Services,11,Kensington Market BIA
C2,2018-03-12 10:00:00,2018-03-16 10:00:00,Closed,Dead Wildlife Pickup,Municipal Licensing & Standards,Toronto Animal Services,11,Kensington Market BIA
C3,2018-03-20 10:00:00,,In Progress,Graffiti,Transportation Services,Road Operations,11,Kensington Market BIA
C4,2018-04-02 10:00:00,2018-04-02 12:00:00,Cancelled,Graffiti,Transportation Services,Road Operations,11,
C5,2018-07-10 08:00:00,2018-07-10 20:00:00,Closed,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement,13,
"""


def surge_rows() -> str:
    """28 quiet days, 1 to 28 June 2018 (one open Graffiti request a day at 09:00), then 120 open
    requests on 29 June: a surge day (120 >= 2 x the median 1 of the 28 days before, and >= 100).
    Sewer 70 (40 at 08:00, 30 at 17:00), Catch Basin 50 (at 13:00). All in ward 13, no BIA."""
    rows = [f"Q{day},2018-06-{day:02d} 09:00:00,,New,Graffiti,Transportation Services,Road Operations,13,"
            for day in range(1, 29)]
    for prefix, sr_type, time, n in (("W", "Sewer Service Line-Blocked", "08:00", 40),
                                     ("X", "Sewer Service Line-Blocked", "17:00", 30),
                                     ("Y", "Catch Basin - Blocked / Flooding", "13:00", 50)):
        rows += [f"{prefix}{i},2018-06-29 {time}:00,,New,{sr_type},Toronto Water,District Ops,13,"
                 for i in range(n)]
    return "\n".join(rows) + "\n"


# Two GeoReport v2 feeds (GET requests.json bodies) delivered in this order, feed_a first. Both
# repeat R1 and R2: the version with the later updated_datetime counts, whatever the file.
# - R1: feed_a says closed (updated 3 March), feed_b, delivered later, still says open (updated
#   2 March: older news). R1 is closed: 1 March 10:00 to 3 March 10:00 = 2.0 days, before its
#   expected_datetime (4 March): on time.
# - R2: feed_a says closed (updated 9 March), feed_b says open again (updated 10 March). R2 is open.
# - R3 (feed_b only): 10 September 09:00 to 12 September 21:00 = 2.5 days, before 14 September: on time.
# R1 and R2 lie at 43.64 N 79.39 W: ward 10 (the profile's boundaries) and inside the square of
# The Waterfront BIA below; R3 at 43.65 N 79.38 W: ward 13, in no BIA.
def _request(rid: str, status: str, updated: str, requested: str, name: str, agency: str,
             where: tuple[float, float], expected: str | None = None) -> dict:
    request = {"service_request_id": rid, "status": status, "service_name": name, "agency_responsible": agency,
               "requested_datetime": requested, "updated_datetime": updated, "lat": where[0], "long": where[1],
               "description": "Dead raccoon outside 12 Elm St, call Jane Roe", "address": "12 Elm St"}
    return request | ({"expected_datetime": expected} if expected else {})


WATERFRONT, CENTRE = (43.64, -79.39), (43.65, -79.38)
R1 = ("R1", "2018-03-01T10:00:00-05:00", "Injured Wildlife", "Municipal Licensing & Standards", WATERFRONT)
R2 = ("R2", "2018-03-08T10:00:00-05:00", "Injured Wildlife", "Municipal Licensing & Standards", WATERFRONT)
FEED_A = [
    _request(R1[0], "closed", "2018-03-03T10:00:00-05:00", *R1[1:], expected="2018-03-04T10:00:00-05:00"),
    _request(R2[0], "closed", "2018-03-09T10:00:00-05:00", *R2[1:]),
]
FEED_B = {"service_requests": [
    _request(R1[0], "open", "2018-03-02T09:00:00-05:00", *R1[1:], expected="2018-03-04T10:00:00-05:00"),
    _request(R2[0], "open", "2018-03-10T10:00:00-05:00", *R2[1:]),
    _request("R3", "closed", "2018-09-12T21:00:00-04:00", "2018-09-10T09:00:00-04:00", "Road - Pot hole",
             "Transportation Services", CENTRE, expected="2018-09-14T09:00:00-04:00"),
]}
PRIVATE = ("Jane Roe", "12 Elm St", "raccoon")

# A made-up city's export, one file spanning two years, read through a mapping. M-1 and M-2 are
# 2017's (M-1 at 23:30 on 31 December, local time), M-3 and M-4 2018's. M-3 takes 2.0 days and
# is closed after its due date (late).
MAPPING = """\
entity: service_requests
files: ["springfield/*.csv"]
columns: {sr_id: ServiceRequestNum, created_at: CreatedDate, closed_at: CloseDate, due_at: DueDate,
          status: SRStatus, sr_type: SRType, division: Agency, ward: CouncilDistrict}
timestamps: {formats: ["%m/%d/%Y %I:%M:%S %p"], timezone: America/New_York}
values:
  status: {Closed: closed, Open: in_progress}
"""
EXPORT = """\
ServiceRequestNum,SRType,CreatedDate,SRStatus,DueDate,CloseDate,Agency,CouncilDistrict
M-1,Road - Pot hole,12/31/2017 11:30:00 PM,Closed,,01/02/2018 09:00:00 AM,Transportation Services,5
M-2,Graffiti,12/30/2017 10:00:00 AM,Closed,,12/31/2017 10:00:00 AM,Transportation Services,5
M-3,Road - Pot hole,01/01/2018 12:30:00 AM,Closed,01/02/2018 12:30:00 AM,01/03/2018 12:30:00 AM,Transportation Services,5
M-4,Graffiti,03/14/2018 09:00:00 AM,Open,,,Transportation Services,10
"""

# The Waterfront BIA as a square around R1 and R2 (raw/reference/bia_boundaries.geojson)
SQUARE = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"bia_name": "The Waterfront BIA"},
    "geometry": {"type": "Polygon", "coordinates": [[
        [-79.395, 43.635], [-79.385, 43.635], [-79.385, 43.645], [-79.395, 43.645], [-79.395, 43.635]]]},
}]}

# What the documents say, once each, about what these extracts do not hold
NOT_HELD = ("The extracts for 2018 hold service requests only: the contact centre’s figures (interactions, "
            "general inquiries, phone and e-mail service levels, transfers and languages of service) and "
            "knowledge-base article views are not available.")
DOCS = {"annual": "cx-annual-report-2018", "appendix_a": "appendix-a-key-metrics-2018",
        "appendix_b": "appendix-b-key-metrics-2018-text-only"}
TITLES = {"annual": "DRAFT – 311 Toronto Customer Experience Annual Report 2018",
          "appendix_a": "DRAFT – Appendix A - 311 Toronto Key Metrics Report 2018",
          "appendix_b": "DRAFT – Appendix B - 311 Toronto Key Metrics Report 2018 (text only)"}
BIAS = {"kensington-market-bia": "Kensington Market BIA", "the-waterfront-bia": "The Waterfront BIA"}


def write_raw(raw: Path) -> None:
    files = {
        "mapped/springfield.yaml": MAPPING,
        "mapped/springfield/export.csv": EXPORT,
        "2018/service_requests_2018.csv": CONTRACT + surge_rows(),
        "open311/feed_a.json": json.dumps(FEED_A),
        "open311/feed_b.json": json.dumps(FEED_B),
        "reference/bia_boundaries.geojson": json.dumps(SQUARE),
    }
    for i, (rel, text) in enumerate(files.items()):
        path = raw / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (T + 60 * i, T + 60 * i))  # delivered in this order: feed_a before feed_b


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    raw, output = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("output")
    write_raw(raw)
    with contextlib.redirect_stderr(io.StringIO()) as console:
        assert main(["report", "--year", "2018", "--raw", str(raw), "--output", str(output)]) == 0
        assert main(["bia", "--month", "2018-03", "--raw", str(raw), "--output", str(output),
                     "--bia", "Kensington Market BIA", "--bia", "The Waterfront BIA"]) == 0
    year, bia = output / "2018", output / "bia" / "2018-03"
    docs = {kind: {"html": (year / f"{stem}.html").read_text("utf-8"), "pdf": year / f"{stem}.pdf"}
            for kind, stem in DOCS.items()}
    docs |= {slug: {"html": (bia / f"{slug}.html").read_text("utf-8"), "pdf": bia / f"{slug}.pdf"}
             for slug in BIAS}
    return {"output": output, "console": console.getvalue(), "docs": docs,
            "metrics": json.loads((year / "key_metrics.json").read_text("utf-8")),
            "bia": {r["bia_name"]: r for r in json.loads((bia / "bia_metrics.json").read_text("utf-8"))}}


# --------------------------------------------------------------------------- the figures


def test_sections_the_extracts_do_not_hold_are_null(built: dict) -> None:
    """metrics.md: 'A section whose source data is absent is null' (present, as null)."""
    m = built["metrics"]
    for section in ("interactions", "general_inquiries", "phone", "email", "transfers", "languages",
                    "knowledge_base"):
        assert section in m and m[section] is None, section
    assert "closing_times_available" not in m["service_requests"]  # the documents' own figure


def test_service_request_figures_by_hand(built: dict) -> None:
    sr = built["metrics"]["service_requests"]
    # 2018: C1, C2, C3, C5 (C4 cancelled) + 28 quiet + 120 surge + R1, R2, R3 + M-3, M-4 = 157;
    # 2017: M-1 (23:30 on 31 December, local) and M-2, from the same mapped file
    assert (sr["total"], sr["cancelled"], sr["prior_year_total"]) == (157, 1, 2)
    assert sr["change_vs_prior_year"] == pytest.approx((157 - 2) / 2)
    # Graffiti: 28 quiet + C3 + M-4 = 30; then the 2s in alphabetical order
    assert sr["top_types"] == [
        {"sr_type": "Sewer Service Line-Blocked", "count": 70},
        {"sr_type": "Catch Basin - Blocked / Flooding", "count": 50},
        {"sr_type": "Graffiti", "count": 30},
        {"sr_type": "Dead Wildlife Pickup", "count": 2},
        {"sr_type": "Injured Wildlife", "count": 2},
        {"sr_type": "Road - Pot hole", "count": 2},
        {"sr_type": "Amplified Sound", "count": 1},
    ]
    # Toronto Water 120; Transportation Services 28 + C3 + R3 + M-3 + M-4 = 32;
    # Municipal Licensing & Standards C1, C2, C5, R1, R2 = 5
    assert [(d["division"], d["count"]) for d in sr["by_division"]] == [
        ("Toronto Water", 120), ("Transportation Services", 32), ("Municipal Licensing & Standards", 5)]
    assert [d["share"] for d in sr["by_division"]] == pytest.approx([120 / 157, 32 / 157, 5 / 157])
    # closed, not cancelled: C1 1.25, C2 4.0, C5 0.5, R1 2.0, R3 2.5, M-3 2.0 days → median 2.0
    assert sr["median_days_to_close"] == pytest.approx(2.0)
    # on time: C1, C5, R1, R3 of those 6 → 4/6. (R1 open, as the later delivery says: 3/5;
    # R2 closed, as the first delivery says: 5/7.)
    assert sr["on_time_rate"] == pytest.approx(4 / 6)
    # open on 31 December: C3, R2, M-4 and the 148 open surge-month requests = 151
    assert sr["open_at_period_end"] == 151
    # wards: 13 = 148 + C5 + R3; 11 = C1, C2, C3; 10 = R1, R2 (from their coordinates) + M-4; 5 = M-3
    wards = {w["ward_number"]: w["count"] for w in sr["by_ward"] if w["count"]}
    assert wards == {13: 150, 11: 3, 10: 3, 5: 1}
    # the profile: Sewer's 40 at 08:00 count from 'before 09:00', its 30 at 17:00 from 'before
    # 18:00' (by 4 p.m.: 40); Catch Basin's 50 at 13:00 from 'before 14:00' (by 4 p.m.: 50)
    assert sr["surge_days"] == [{
        "date": "2018-06-29", "count": 120, "baseline_median": 1.0, "multiple": 120.0,
        "top_types": [{"sr_type": "Sewer Service Line-Blocked", "count": 70},
                      {"sr_type": "Catch Basin - Blocked / Flooding", "count": 50}],
        "profile": [
            {"sr_type": "Sewer Service Line-Blocked", "cumulative_by_hour": [0] * 8 + [40] * 9 + [70] * 7,
             "by_4pm": 40},
            {"sr_type": "Catch Basin - Blocked / Flooding", "cumulative_by_hour": [0] * 13 + [50] * 11,
             "by_4pm": 50},
        ],
    }]


def test_a_request_repeated_across_two_feeds_counts_as_its_latest_update(built: dict) -> None:
    """R1's later update is in the first feed, R2's in the second: updated_datetime decided both
    (the figures above follow from it), never the order the files came in."""
    with duckdb.connect(str(built["output"] / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT source_file, decided_by, service_requests FROM marts.mart_sr_versions "
                           "ORDER BY 1").fetchall() == [("open311/feed_a.json", "updated_at", 1),
                                                       ("open311/feed_b.json", "updated_at", 1)]
        stored = json.dumps(con.execute("SELECT * FROM raw.service_requests").fetchall(), default=str)
    assert [p for p in PRIVATE if p in stored] == []
    assert "no updated_at to tell" not in built["console"]


def test_bia_month_figures_by_hand(built: dict) -> None:
    """March 2018 in the city: C1, C2, C3, R1, R2, M-4 = 6 requests."""
    kensington, waterfront = built["bia"]["Kensington Market BIA"], built["bia"]["The Waterfront BIA"]
    # Kensington (named in the CSV): C1, C2, C3; closed in March C1 (1.25 days, on time) and C2
    # (4.0, late): median 2.625, on time 1/2; C3 still open; 3 of the city's 6
    assert (kensington["service_requests"], kensington["closed_in_month"], kensington["open_at_month_end"]) == (3, 2, 1)
    assert kensington["median_days_to_close"] == pytest.approx(2.625)
    assert (kensington["on_time_rate"], kensington["share_of_city"]) == (pytest.approx(0.5), pytest.approx(3 / 6))
    assert kensington["by_status"] == [{"status": "in_progress", "count": 1}, {"status": "closed", "count": 2}]
    # The Waterfront (R1 and R2, by their coordinates): R1 closed in 2.0 days, on time; R2 open
    assert (waterfront["service_requests"], waterfront["closed_in_month"], waterfront["open_at_month_end"]) == (2, 1, 1)
    assert (waterfront["median_days_to_close"], waterfront["on_time_rate"]) == (pytest.approx(2.0), pytest.approx(1.0))
    assert waterfront["by_status"] == [{"status": "in_progress", "count": 1}, {"status": "closed", "count": 1}]
    assert waterfront["top_types"] == [{"sr_type": "Injured Wildlife", "count": 2}]


# --------------------------------------------------------------------------- what the documents say


def _text(html: str) -> str:
    """The words of a page: no style, no markup, entities as characters."""
    import html as html_lib

    body = re.sub(r"<style\b.*?</style>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.mark.parametrize("kind", list(DOCS))
def test_each_document_says_once_what_the_extracts_do_not_hold(built: dict, kind: str) -> None:
    doc = built["docs"][kind]
    for text in (_text(doc["html"]), pdf_words(doc["pdf"])):
        assert text.count(NOT_HELD) == 1
        assert text.count("not available") == 1  # nothing else says it, section by section


def test_the_annual_report_leads_with_what_it_holds(built: dict) -> None:
    text = _text(built["docs"]["annual"]["html"])
    # the Summary: 157 against 2 → +7,750%, then the sentence; Time to close: 2.0 days, 67%, 151
    assert ("In 2018, service requests increased by 7,750% to 157, compared to 2 in 2017. " + NOT_HELD) in text
    assert ("Median days to close: 2.0 days. Closed on time (within the service standard): 67% of the "
            "closed requests whose type has a standard. Still open on December 31: 151 requests created "
            "in 2018.") in text
    assert "Sewer Service Line-Blocked 70 45%" in text  # Table 1: 70 / 157 = 44.6% → 45%
    # the console said it too, before rendering
    assert f"not available in the extracts for 2018 (the documents say so):\n  {NOT_HELD}\n" in built["console"]


# The annual report's subsections and charts the extracts cannot fill, and the appendices' groups
LEFT_OUT = {
    "annual": ["inquiries-and-requests", "general-inquiries", "phone", "kb-articles", "top-topics",
               "service-level-by-month", "email"],
    "appendix_a": ["interaction-metrics", "phone-metrics", "transfer-language-metrics", "knowledge-base-metrics"],
}
LEFT_OUT["appendix_b"] = LEFT_OUT["appendix_a"]
HEADINGS = ("General Inquiries", "Phone Channel Service Levels", "Interactions", "Phone", "Transfers and languages",
            "Knowledge base", "E-mail acknowledgement")
CHARTS = {"annual": ["chart-top-types", "chart-ward-map"],
          "appendix_a": ["chart-top-types-10", "chart-divisions", "chart-ward-map", "chart-surge-profile"],
          "appendix_b": []}


@pytest.mark.parametrize("kind", list(DOCS))
def test_what_is_not_held_has_no_section_chart_contents_entry_or_bookmark(built: dict, kind: str) -> None:
    doc = built["docs"][kind]
    html = doc["html"]
    for sid in LEFT_OUT[kind]:
        assert f'id="{sid}"' not in html and f'href="#{sid}"' not in html, sid
    bookmarks = a11y.pdf_bookmarks(doc["pdf"])
    assert bookmarks and not [b for b in bookmarks if b.strip() in HEADINGS]
    charts = re.findall(r'<svg\b[^>]*aria-labelledby="([^"]+)-title"', html)
    assert charts == CHARTS[kind]
    assert a11y.pdf_figures_without_alt(doc["pdf"]) == (len(CHARTS[kind]), [])
    assert "left-out" not in html  # every chart of what the extracts hold has its rows


@pytest.mark.parametrize("kind", list(DOCS))
def test_no_zero_or_dash_stands_for_a_missing_figure(built: dict, kind: str) -> None:
    html = built["docs"][kind]["html"]
    rows = [re.findall(r"<t[dh]\b[^>]*>([^<]*)</t[dh]>", row) for row in re.findall(r"<tr\b.*?</tr>", html, re.S)]
    assert rows
    for cells in rows:
        if cells[:2] == ["–", "Unknown"]:  # the ward of requests without a location: no number,
            assert cells[2:] in (["0", "n/a"], ["0", "n/a", "n/a"])  # no population; none this year
            continue
        # the shares printed: 45%, 32%, 19%, 1%, 76%, 20%, 3%: none is 0%; no duration at all
        assert not {"0%", "–", "-", "0:00:00"} & set(cells), cells
        # 'n/a' only as the top types of a ward without requests (its count 0, a real figure)
        if "n/a" in cells:
            assert cells[2:] == ["0", "0.0", "n/a"], cells
    assert "0 customer interactions" not in html and "0 general inquiries" not in html


# --------------------------------------------------------------------------- the BIA reports


@pytest.mark.parametrize("slug", list(BIAS))
def test_a_bia_report_of_the_month_holds_everything_it_shows(built: dict, slug: str) -> None:
    """A BIA report shows service requests only, and March 2018's have closing times: nothing
    to say about what the extracts do not hold."""
    doc = built["docs"][slug]
    for text in (_text(doc["html"]), pdf_words(doc["pdf"])):
        assert "not available" not in text and "The extracts for" not in text
    assert 'id="open"' in doc["html"]  # the requests still open at month end
    assert a11y.html_structure_problems(doc["html"]) == []
    assert a11y.pdf_ua_problems(doc["pdf"], lang="en-CA",
                                title=f"{BIAS[slug]}: 311 service requests, March 2018") == []


# --------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("kind", list(DOCS))
def test_every_document_stays_accessible(built: dict, kind: str) -> None:
    doc = built["docs"][kind]
    assert a11y.html_structure_problems(doc["html"]) == []
    assert a11y.html_title(doc["html"]) == TITLES[kind]
    assert a11y.pdf_ua_problems(doc["pdf"], lang="en-CA", title=TITLES[kind]) == []
