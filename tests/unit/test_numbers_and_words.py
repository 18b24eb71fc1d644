"""How the documents state their figures (issue 27, "Numbers and words"): one rounding rule with
its exceptions stated, "<1%" for a share that rounds to 0, changes in words (never a signed number
in prose), medians of counts as counts, no one item named highest or lowest when printed values
tie, no claim about practice in the default narrative, and a Sources sentence that reads. Every
expected figure is worked out by hand from tests/fixtures/key_metrics_sample.json."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from pipeline.report import narrative
from pipeline.report.annual import render_html
from pipeline.report.chart_specs import key_metric_specs
from pipeline.report.context import service_sentences
from pipeline.report.formatting import (
    ROUNDING_EXCEPTIONS,
    ROUNDING_RULE,
    fmt_change,
    fmt_months,
    leaders,
    shares_may_not_total,
)
from tests.support.key_metrics import META, load_metrics

KINDS = ("annual", "appendix_a", "appendix_b")


class _Prose(HTMLParser):
    """The running text of a document: paragraphs and list items outside tables, key-figure
    boxes, the style sheet and the header block."""

    SKIP = {"table", "style", "dl", "header", "nav", "title", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        elif tag in ("p", "li") and not self.depth:
            self.parts.append("\x00")  # a new paragraph or list item

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def prose(html: str) -> list[str]:
    parser = _Prose()
    parser.feed(html)
    return [" ".join(line.split()) for line in "".join(parser.parts).split("\x00") if line.strip()]


def render(metrics: dict, kind: str = "annual") -> str:
    return render_html(metrics, META, "html", kind, key_metric_specs(metrics, with_svg=False))


# --------------------------------------------------------------------------- 5. one rounding rule


def test_every_document_states_the_rounding_rule_and_its_exception():
    for kind in KINDS:
        html = render(load_metrics(), kind)
        assert str(escape(ROUNDING_RULE)) in html, kind
        assert str(escape(ROUNDING_EXCEPTIONS["near_100"])) in html, kind


def test_a_percent_with_decimals_is_only_ever_a_stated_exception():
    """Whole percent everywhere but the transfers and languages (the stated exception): in the
    annual report's running text, a percent with a decimal appears only in their two sentences."""
    lines = prose(render(load_metrics()))
    decimal = [line for line in lines if re.search(r"\d\.\d%", line)]
    assert decimal and all(("transfer" in line or "language" in line) for line in decimal), decimal


def test_shares_that_do_not_total_100_say_so():
    # divisions: 36% + 24% + 21% + 11% + 5% + 2% = 99% → the note; channels 78 + 8 + 6 + 5 + 2 + 1
    # = 100% and types 62 + 32 + 6 = 100% → none
    metrics = load_metrics()
    html = render(metrics)
    divisions = html[html.index('id="divisions"'):html.index('id="time-to-close"')]
    assert '<p class="rounding-note">Shares may not total 100% due to rounding.</p>' in divisions
    assert html.count("may not total 100% due to rounding") == 1
    specs = {s.id: s for s in key_metric_specs(metrics, with_svg=False)}
    assert specs["divisions"].note == "Shares may not total 100% due to rounding."
    assert specs["type-mix"].note is None
    # the demo channels: 58 + 15 + 10 + 7 + 6 + 2 + 2 + 2 = 102%
    assert shares_may_not_total([0.575, 0.15, 0.1, 0.07, 0.055, 0.02, 0.015, 0.015])
    assert not shares_may_not_total([0.62, 0.32, 0.06])


def test_a_share_under_half_a_percent_reads_less_than_one_percent():
    # Fleet Services: 690 of 463,000 = 0.15% → "<1%", never "0%"
    metrics = load_metrics()
    metrics["service_requests"]["by_division"].append({"division": "Fleet Services", "count": 690,
                                                       "share": 690 / 463000})
    html = render(metrics)
    assert "<li>Fleet Services: 690 (&lt;1%)</li>" in html
    assert "(0%)" not in html
    appendix = {s.id: s for s in key_metric_specs(metrics, with_svg=False)}["divisions"]
    assert ["Fleet Services", "690", "<1%"] in appendix.rows


# --------------------------------------------------------------------------- 6. changes in words


def test_changes_in_prose_are_words_never_signed_numbers():
    lines = prose(render(load_metrics()))
    signed = [line for line in lines if re.search(r"[+\u2212]\d", line)]
    assert signed == []
    # (463,000 − 487,000) / 487,000 = −4.93% → "decreased by 5%"; said once on page 1, once in
    # Service Requests, never as "−5% compared with 2023"
    text = "\n".join(lines)
    assert text.count("decreased by 5% to 463,000, compared to 487,000 in 2023") == 2
    # phone −3.12% → "a decrease of 3%"; mobile app +21.96% → "an increase of 22%"
    assert "Phone: 1,006,200 (78%), a decrease of 3% from 2023" in text
    assert "Mobile app: 25,800 (2%), an increase of 22% from 2023" in text
    assert "compared to 487,000 in 2023. Cancelled requests (8,412)" in text  # one space between
    # page 1 says the year's counts once: the default highlights do not repeat them
    summary = render(load_metrics()).split('id="summary"')[1].split('id="recommendations"')[0]
    assert summary.count("463,000") == 1 and summary.count("1,290,000") == 1


@pytest.mark.parametrize(("args", "expected"), [
    ((-0.0493, 2023, 463000, 487000), "decreased by 5% to 463,000, compared to 487,000 in 2023"),
    ((0.2196, 2023), "increased by 22% from 2023"),
    ((0.003, 2023), "increased by less than 1% from 2023"),
    ((0.0, 2023, 7, 7), "was unchanged at 7, as in 2023"),
    ((None, 2023), "n/a"),
])
def test_change_in_words(args, expected):
    assert fmt_change(*args) == expected


def test_change_in_words_as_a_noun():
    assert fmt_change(-0.0312, 2023, form="noun") == "a decrease of 3% from 2023"
    assert fmt_change(0.0, 2023, form="noun") == "no change from 2023"


# --------------------------------------------------------------------------- 7. medians of counts


def test_a_median_of_counts_reads_as_a_count():
    # VHT's Q2 2024 median of (8,441, 7,412, 9,200, 24,310) = 8,820.5 → 8,821
    spec = {s.id: s for s in key_metric_specs(load_metrics(), with_svg=False)}["inquiry-surges"]
    assert all(not re.search(r"\d\.\d", row[4]) for row in spec.rows)
    assert ["Q2 2024", "Vacant Home Tax (VHT)", "23,890", "21,064", "8,821", "Yes"] in spec.rows


# --------------------------------------------------------------------------- 8. ties


def test_leaders_compare_printed_values():
    rows = [{"m": "2024-01", "v": 50.6}, {"m": "2024-07", "v": 51.2}, {"m": "2024-12", "v": 45.0}]
    # 50.6 s and 51.2 s both print 0:00:51
    assert [r["m"] for r in leaders(rows, lambda r: r["v"], lambda r: f"{round(r['v'])}")] == ["2024-01", "2024-07"]
    assert [r["m"] for r in leaders(rows, lambda r: r["v"], lambda r: str(r["v"]))] == ["2024-07"]
    assert [r["m"] for r in leaders(rows, lambda r: r["v"], str, lowest=True)] == ["2024-12"]
    assert fmt_months(["2024-01", "2024-07"]) == "January and July 2024"
    assert fmt_months([f"2024-0{m}" for m in range(1, 7)]) == "six months"


def test_no_month_is_named_longest_or_lowest_when_printed_values_tie():
    metrics = load_metrics()
    monthly = metrics["phone"]["monthly"]
    monthly[0]["asa_seconds"] = 78.4  # January 0:01:18, as July's 78.3 s
    monthly[7]["service_level"] = 0.7412  # August 74%, as July's 0.741
    specs = {s.id: s for s in key_metric_specs(metrics, with_svg=False)}
    assert specs["asa-monthly"].summary.startswith(
        "Callers waited longest for an answer in January and July 2024 (0:01:18 each) and shortest in "
        "February 2024 (0:00:32)")
    assert specs["service-level"].summary.endswith("it was lowest in July and August 2024 (74% each).")
    # transfers: six months at the top printed share are counted, not one of them named
    for row in metrics["transfers"]["monthly"][:6]:
        row["handled_without_transfer"] = 0.9901
    summary = {s.id: s for s in key_metric_specs(metrics, with_svg=False)}["transfers-monthly"].summary
    assert summary.endswith("to 99.0% in six months.")


def test_no_item_is_named_most_frequent_when_printed_counts_tie():
    metrics = load_metrics()
    top = metrics["service_requests"]["top_types"]
    top[1]["count"] = top[0]["count"]  # 22,647 each
    metrics["knowledge_base"]["top_articles"][1]["views"] = metrics["knowledge_base"]["top_articles"][0]["views"]
    metrics["languages"]["top_other_than_english"][1]["count"] = metrics["languages"]["top_other_than_english"][0]["count"]
    specs = {s.id: s for s in key_metric_specs(metrics, with_svg=False)}
    assert specs["top-types"].summary.startswith(
        f"{top[0]['sr_type']} and {top[1]['sr_type']} were the most frequent service request types in 2024, "
        "with 22,647 requests each")
    assert " and “" in specs["kb-articles"].summary and "were the most viewed" in specs["kb-articles"].summary
    assert "most often Chinese and Spanish (14,210 each)" in specs["languages"].summary
    assert service_sentences(metrics)["languages"].endswith("most often Chinese and Spanish.")


# --------------------------------------------------------------------------- 9. no claims about practice


def test_the_default_narrative_states_figures_never_practice():
    """Every sentence of the default narrative states something the data shows (it holds a
    placeholder); what 311 does with it is the analyst's to say."""
    for path in sorted(narrative.DEFAULTS_DIR.glob("*.md")):
        if path.name == "README.md":
            continue
        text = re.sub(r"\{%.*?%\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        sentences = [s for s in re.split(r"(?<=\.)\s+", " ".join(text.split())) if s.strip()]
        assert sentences, path.name
        for sentence in sentences:
            assert "{{" in sentence, (path.name, sentence)
    html = render(load_metrics())
    for claim in ("guide which answers are improved", "reviews its channels", "works with the City divisions",
                  "Surges usually follow storms"):
        assert claim not in html


# --------------------------------------------------------------------------- 10. Sources


def test_the_sources_sentence_reads():
    html = render(load_metrics())
    assert ("<p>Every figure in this report comes from the input files listed below. The comparisons "
            "with 2023 read the 2023 files.</p>") in html
    assert "included: the comparisons" not in html
