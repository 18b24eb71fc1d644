"""An extract in the City's Open Data format, end to end: SR figures, and what the extract does
not hold (interactions, knowledge-base views, closing times) said once per document, its
sections left out (never 0).

It needs a warehouse of its own (an Open Data extract has no closing times, which is what it
tests), so a second full `report` run: it runs in the slow suite (`make test-all`, which CI
runs), which keeps `make test` within its time budget. The Open Data reader itself is tested
in the unit layer (tests/unit/test_ingest.py, both variants)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import main
from tests.support import a11y
from tests.support.pdf_text import pdf_words

# What each document says once: the year's extracts hold service requests only, without closing
# times; the month's BIA reports, which show service requests only, lack the closing times
NOT_HELD = ("The extracts for 2024 hold service requests only, without closing times: the contact centre’s "
            "figures (interactions, general inquiries, phone and e-mail service levels, transfers and "
            "languages of service), knowledge-base article views, time to close, the on-time rate and "
            "requests still open at year end are not available.")
BIA_NOT_HELD = ("The extracts for June 2024 hold no closing times for service requests: time to close, the "
                "on-time rate and requests still open at month end are not available.")

OPEN_DATA = """\
Creation Date,Status,First 3 Chars of Postal Code,Intersection Street 1,Intersection Street 2,Ward,Service Request Type,Division,Section
2024-01-02 08:15:00.0000000,Closed,M6H,Dundas St W,Ossington Ave,Davenport (09),General Pruning,Urban Forestry,Tree Maintenance
2024-01-03 09:00:00.0000000,Completed,M6H,,,Davenport (09),General Pruning,Urban Forestry,Tree Maintenance
2024-02-03 10:30:00.0000000,New,M4C,,,Beaches-East York (19),Road - Pot hole,Transportation Services,Road Operations
2024-03-04 11:45:00.0000000,Cancelled,M4C,,,19,Road - Pot hole,Transportation Services,Road Operations
2024-04-05 12:00:00.0000000,Unknown,,,,,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement
"""


def surge_rows() -> str:
    """28 quiet days in June 2024 (1 SR a day), then 120 SRs on 29 June: a surge day
    (120 >= 2 x median 1 and >= 100). Its types: 60 Sewer (20 at 08:00, 30 at 15:59, 10 at
    16:00), 40 Catch Basin (25 at 13:00, 15 at 20:00), 15 Tree, 5 Noise (at 13:00)."""
    rows = [
        f"2024-06-{day:02d} 09:00:00.0000000,Closed,M6H,,,9,Graffiti,Transportation Services,Road Operations"
        for day in range(1, 29)
    ]
    for sr_type, time, n in (
        ("Sewer Service Line-Blocked", "08:00", 20),
        ("Sewer Service Line-Blocked", "15:59", 30),
        ("Sewer Service Line-Blocked", "16:00", 10),
        ("Catch Basin - Blocked / Flooding", "13:00", 25),
        ("Catch Basin - Blocked / Flooding", "20:00", 15),
        ("Tree Emergency Clean-Up", "13:00", 15),
        ("Noise", "13:00", 5),
    ):
        rows += [f"2024-06-29 {time}:00.0000000,Closed,M6H,,,9,{sr_type},Toronto Water,District Ops"] * n
    return "\n".join(rows) + "\n"


def test_open_data_extract_reports_sr_figures_and_marks_closing_figures_unavailable(tmp_path: Path, capsys) -> None:
    raw, output = tmp_path / "raw", tmp_path / "output"
    (raw / "open_data").mkdir(parents=True)
    (raw / "open_data" / "sr2024.csv").write_text(OPEN_DATA + surge_rows(), encoding="utf-8")

    assert main(["report", "--year", "2024", "--raw", str(raw), "--output", str(output)]) == 0
    console = capsys.readouterr().err

    metrics = json.loads((output / "2024" / "key_metrics.json").read_text(encoding="utf-8"))
    sr = metrics["service_requests"]
    # 5 rows (1 cancelled) + 28 + 120 surge rows → 4 + 148 = 152
    assert (sr["total"], sr["cancelled"]) == (152, 1)
    assert sr["top_types"][:3] == [
        {"sr_type": "Sewer Service Line-Blocked", "count": 60},
        {"sr_type": "Catch Basin - Blocked / Flooding", "count": 40},
        {"sr_type": "Graffiti", "count": 28},
    ]
    # General Pruning 2, then the ones (ties alphabetical)
    assert sr["top_types"][5:] == [
        {"sr_type": "General Pruning", "count": 2},
        {"sr_type": "Amplified Sound", "count": 1},
        {"sr_type": "Road - Pot hole", "count": 1},
    ]
    # the profile of the 2 top types: SRs made before 01:00, 02:00 … 24:00. Sewer: 20 at 08:00
    # count from 09:00, 30 at 15:59 from 16:00 ("by 4 p.m." 50), 10 at 16:00 from 17:00.
    # Catch Basin: 25 at 13:00 from 14:00 (by 4 p.m. 25), 15 at 20:00 from 21:00.
    sewer = [0] * 8 + [20] * 7 + [50] + [60] * 8
    catch = [0] * 13 + [25] * 7 + [40] * 4
    assert sr["surge_days"] == [
        {
            "date": "2024-06-29",
            "count": 120,
            "baseline_median": 1.0,
            "multiple": 120.0,
            "top_types": [
                {"sr_type": "Sewer Service Line-Blocked", "count": 60},
                {"sr_type": "Catch Basin - Blocked / Flooding", "count": 40},
                {"sr_type": "Tree Emergency Clean-Up", "count": 15},
            ],
            "profile": [
                {"sr_type": "Sewer Service Line-Blocked", "cumulative_by_hour": sewer, "by_4pm": 50},
                {"sr_type": "Catch Basin - Blocked / Flooding", "cumulative_by_hour": catch, "by_4pm": 25},
            ],
        }
    ]
    assert len(sewer) == len(catch) == 24
    # No closing times in this format: null, never 0
    assert sr["median_days_to_close"] is None
    assert sr["on_time_rate"] is None
    assert sr["open_at_period_end"] is None
    # No interaction extracts at all: those sections are null
    assert metrics["interactions"] is None and metrics["phone"] is None and metrics["email"] is None
    wards = {w["ward_name"]: w["count"] for w in sr["by_ward"]}
    # Davenport (09): 2 + 28 + 120 = 150
    assert (wards["Davenport"], wards["Beaches-East York"], wards["Unknown"]) == (150, 1, 1)

    html = (output / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8")
    appendix = (output / "2024" / "appendix-b-key-metrics-2024-text-only.html").read_text(encoding="utf-8")
    assert ("By 4 p.m., there were 50 requests for Sewer Service Line-Blocked and 25 for "
            "Catch Basin - Blocked / Flooding.") in appendix
    assert '<th scope="row">4 p.m.</th><td class="num">50</td><td class="num">25</td>' in appendix

    # --- issue 12: what an Open Data extract leaves empty is said in words, never "n/a"
    docs = {name: (output / "2024" / f"{name}.html").read_text(encoding="utf-8")
            for name in ("cx-annual-report-2024", "appendix-a-key-metrics-2024",
                         "appendix-b-key-metrics-2024-text-only")}
    # no prior year: the comparison sentences are rewritten
    for bad in ("compared with n/a", "change of n/a", "n/a vs 2023", "Top 0 "):
        assert not any(bad in page for page in docs.values()), bad
    assert "There are no 2023 service requests in the extracts to compare with." in html
    assert "no 2023 figures to compare with" in html  # the summary's key figure
    # what the extract does not hold: said once in each document (HTML and PDF), its sections
    # left out (no Time to close, no "Top 0 knowledge-base articles", no phone section)
    for name, page in docs.items():
        for text in (" ".join(page.split()), pdf_words(output / "2024" / f"{name}.pdf")):
            assert text.count(NOT_HELD) == 1, name
    for part in ('id="kb-articles"', 'id="time-to-close"', 'id="phone"', "Median days to close"):
        assert part not in html, part
    appendix = docs["appendix-a-key-metrics-2024"]
    assert 'id="knowledge-base-metrics"' not in appendix and "left-out" not in appendix
    # the data notes list the comparison that cannot be made, and nothing the sentence said
    notes = html[html.index("Figures not available in this extract"):]
    notes = notes[:notes.index("</ul>")]
    assert notes.count("<li>") == 1
    assert "<li>Change in service requests: there are no 2023 service requests to compare with.</li>" in notes
    # the ward map: 22 wards without requests get a class of their own, no "under 0" / "0 or more"
    assert "0 (no requests)" in html
    assert "under 0<" not in html and ">0 or more<" not in html
    # the console said what would be empty, before rendering, and that the documents are a draft
    assert (f"not available in the extracts for 2024 (the documents say so):\n  {NOT_HELD}\n"
            "  Change in service requests: there are no 2023 service requests to compare with.\n") in console
    assert console.index("not available in the extracts") < console.index("render:")
    assert f"  {raw}/narrative/2024/report.yaml (file missing: date" in console
    # the Open Data file is the one input (manifest and Sources alike)
    manifest = json.loads((output / "2024" / "manifest.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in manifest["inputs"]] == ["open_data/sr2024.csv"]

    # --- the month's BIA report: no requests in any BIA (the format has no location to place
    # them), and no closing times: said once, no figure or section that needs them
    assert main(["--quiet", "bia", "--month", "2024-06", "--raw", str(raw), "--output", str(output),
                 "--bia", "Kensington Market BIA"]) == 0
    # the BIA figures that need closing times are null, not 0 (closed_in_month included): `bia`
    # built the BIA reports' marts (`report` builds only the annual report's)
    from pipeline.bia.batch import month_data

    record = month_data(output / "warehouse.duckdb", "2024-06").records[0]
    assert (record["closed_in_month"], record["median_days_to_close"], record["open_at_month_end"]) == (
        None, None, None)
    report = output / "bia" / "2024-06" / "kensington-market-bia"
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    for text in (" ".join(page.split()), pdf_words(report.with_suffix(".pdf"))):
        assert text.count(BIA_NOT_HELD) == 1 and text.count("not available") == 1
    for part in ('id="open"', 'href="#open"', "Median days to close", "Closed on time"):
        assert part not in page, part
    assert a11y.html_structure_problems(page) == []
    assert a11y.pdf_ua_problems(report.with_suffix(".pdf"), lang="en-CA",
                                title="Kensington Market BIA: 311 service requests, June 2024") == []
