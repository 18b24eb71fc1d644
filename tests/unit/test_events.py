"""The year's events from the data (pipeline/report/events.py) and their two Appendix A charts
(surge-day profile, inquiry surges): every expected figure formatted by hand from
tests/fixtures/key_metrics_sample.json."""

from __future__ import annotations

import copy
import re

import pytest

from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.context import build_context
from pipeline.report.events import largest_surge_day, year_events
from pipeline.report.formatting import fmt_clock_hour, fmt_count, fmt_multiple, fmt_quarter
from tests.support.key_metrics import load_metrics


@pytest.fixture(scope="module")
def specs():
    return {s.id: s for s in key_metric_specs(load_metrics())}


def test_formatting_of_hours_quarters_medians_and_multiples():
    assert [fmt_clock_hour(h) for h in (1, 11, 12, 13, 16, 24)] == [
        "1 a.m.", "11 a.m.", "noon", "1 p.m.", "4 p.m.", "midnight"]
    assert fmt_quarter("2024-Q1") == "Q1 2024"
    # a median of counts reads as a count (issue 27): 13,107.5 → 13,108, half away from zero
    assert (fmt_count(8189.0), fmt_count(13107.5), fmt_count(None)) == ("8,189", "13,108", "n/a")
    assert (fmt_multiple(3412 / 700), fmt_multiple(None)) == ("4.9 times", "n/a")


def test_year_events_sentences_from_the_figures():
    events = year_events(load_metrics())
    # 16 July: 3,412 SRs / median 700 = 4.874 → "4.9 times"; by 4 p.m. (cumulative_by_hour[15])
    # 702 Sewer and 201 Catch Basin
    assert events["largest_surge_day"]["date"] == "2024-07-16"
    assert events["largest_surge_day"]["by_4pm"] == [
        {"sr_type": "Sewer Service Line Blocked", "count": 702},
        {"sr_type": "Catch Basin Flooding", "count": 201}]
    assert events["sentences"][1] == (
        "On Tuesday, July 16, 2024, 311 received 3,412 service requests, 4.9 times the median of "
        "the 28 days before (700). By 4 p.m., there were 702 requests for Sewer Service Line "
        "Blocked and 201 for Catch Basin Flooding.")
    assert [d["date"] for d in events["surge_days"]] == ["2024-02-28", "2024-07-16", "2024-07-17", "2024-08-08"]
    # VHT: Q1 24,310 (21,950 by phone) / median(7,800, 8,441, 7,412, 9,200) = 8,120.5 → 2.99 → "3.0";
    # the median reads as a count: 8,120.5 → 8,121
    # Q2 23,890 / median(8,441, 7,412, 9,200, 24,310) = 8,820.5 → 2.71 → "2.7"; 8,821
    assert events["sentences"][4:] == [
        "General inquiries about Vacant Home Tax (VHT) surged in Q1 2024: 24,310 (21,950 by phone), "
        "3.0 times the median of the 4 quarters before (8,121).",
        "General inquiries about Vacant Home Tax (VHT) surged in Q2 2024: 23,890 (21,064 by phone), "
        "2.7 times the median of the 4 quarters before (8,821).",
    ]
    assert [s["quarter_label"] for s in events["inquiry_surges"]] == ["Q1 2024", "Q2 2024"]
    assert events["surge_days_known"] and events["inquiry_surges_known"]
    # the annual report's context carries them
    assert build_context(load_metrics(), {"demo": True}, "html")["year_events"] == events


def test_year_events_without_surges_or_data():
    metrics = load_metrics()
    metrics["service_requests"]["surge_days"] = []
    metrics["general_inquiries"]["inquiry_surges"] = []
    events = year_events(metrics)
    assert (events["surge_days"], events["largest_surge_day"], events["sentences"]) == ([], None, [])
    assert events["surge_days_known"] and events["inquiry_surges_known"]
    metrics["service_requests"] = metrics["general_inquiries"] = None
    events = year_events(metrics)
    assert not events["surge_days_known"] and not events["inquiry_surges_known"]


def test_a_surge_day_over_a_zero_median_and_the_largest_of_equals():
    metrics = load_metrics()
    days = metrics["service_requests"]["surge_days"]
    days[0].update(count=3412, baseline_median=0.0, multiple=None)
    assert largest_surge_day(metrics)["date"] == "2024-02-28"  # the earlier of two with 3,412
    sentence = year_events(metrics)["sentences"][0]
    assert sentence.startswith("On Wednesday, February 28, 2024, 311 received 3,412 service requests, "
                               "when the median of the 28 days before was 0. By 4 p.m.,")


def test_surge_profile_chart_and_table(specs):
    spec = specs["surge-profile"]
    assert spec.title == "Service requests through the day, July 16, 2024"
    assert spec.columns == [("Made before", False), ("Sewer Service Line Blocked", True),
                            ("Catch Basin Flooding", True)]
    assert len(spec.rows) == 24
    assert spec.rows[0] == ["1 a.m.", "7", "2"]
    assert spec.rows[15] == ["4 p.m.", "702", "201"]
    assert spec.rows[23] == ["midnight", "731", "214"]  # the day's counts of the two types
    assert spec.summary.endswith("It was the largest of 4 surge days in 2024.")
    assert "Sewer Service Line Blocked: 702 by 4 p.m., 731 by midnight." in spec.alt
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", str(spec.svg))
    assert {"702", "201", "4 p.m.", "noon", "midnight", "Sewer Service Line Blocked"} <= set(texts)


def test_inquiry_surge_chart_and_table(specs):
    spec = specs["inquiry-surges"]
    assert spec.caption == "General inquiries by quarter, 2023–2024, of each topic that surged in 2024"
    assert len(spec.rows) == 8  # VHT, 2023-Q1 … 2024-Q4
    assert spec.rows[0] == ["Q1 2023", "Vacant Home Tax (VHT)", "7,800", "6,100", "n/a", "n/a"]
    assert spec.rows[4] == ["Q1 2024", "Vacant Home Tax (VHT)", "24,310", "21,950", "8,121", "Yes"]
    # Q3 2024: 12,100 vs median(7,412, 9,200, 24,310, 23,890) = 16,545 → no surge
    assert spec.rows[6] == ["Q3 2024", "Vacant Home Tax (VHT)", "12,100", "9,800", "16,545", "No"]
    assert spec.summary.endswith("Another surge in 2024: Vacant Home Tax (VHT) in Q2 2024 (23,890).")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", str(spec.svg))
    assert {"Vacant Home Tax (VHT)", "Surge quarter", "Q1 2024", "24,310"} <= set(texts)


def test_inquiry_chart_without_a_surge_shows_the_top_topic_and_says_so():
    metrics = load_metrics()
    gi = metrics["general_inquiries"]
    gi["inquiry_surges"] = []
    for q in gi["quarterly"][0]["quarters"]:
        q["surge"] = False
    spec = next(s for s in key_metric_specs(metrics, with_svg=False) if s.id == "inquiry-surges")
    assert spec.caption.endswith("of the most frequent topic in 2024")
    assert spec.summary == ("No general-inquiry topic surged in 2024; the most frequent topic, "
                            "Vacant Home Tax (VHT), peaked in Q1 2024 (24,310).")
    early = copy.deepcopy(metrics)
    for q in early["general_inquiries"]["quarterly"][0]["quarters"]:
        q.update(evaluated=False, baseline_median=None)
    spec = next(s for s in key_metric_specs(early, with_svg=False) if s.id == "inquiry-surges")
    assert spec.summary.startswith("No quarter of 2024 could be checked for surges")


def test_no_surge_day_leaves_the_profile_out_and_says_why():
    metrics = load_metrics()
    metrics["service_requests"]["surge_days"] = []
    spec = next(s for s in key_metric_specs(metrics) if s.id == "surge-profile")
    assert (spec.rows, spec.svg) == ([], None)
    assert spec.summary == "There were no surge days in 2024."
    metrics["service_requests"] = None
    spec = next(s for s in key_metric_specs(metrics) if s.id == "surge-profile")
    assert (spec.rows, spec.summary) == ([], "")


def test_profile_note_names_the_clock_change_only_on_that_day(specs):
    assert specs["surge-profile"].note == "Local Toronto time."
    metrics = load_metrics()
    metrics["service_requests"]["surge_days"][1]["date"] = "2024-11-03"  # the largest: clocks go back
    spec = next(s for s in key_metric_specs(metrics, with_svg=False) if s.id == "surge-profile")
    assert spec.title == "Service requests through the day, November 3, 2024"
    assert spec.note == ("Local Toronto time; the clocks went back that night, so both 1 a.m. hours "
                         "count before 2 a.m.")
