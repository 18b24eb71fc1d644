"""Tests for the analyst narrative (pipeline/narrative.py)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from pipeline.profile import load_profile
from pipeline.report import narrative
from pipeline.report.annual import render_annual_report, render_html
from tests.support.key_metrics import load_metrics
from tests.support.processes import children


@pytest.fixture
def ndir(tmp_path: Path) -> Path:
    d = tmp_path / "raw" / "narrative" / "2024"
    d.mkdir(parents=True)
    return d


def test_placeholders_use_the_report_filters(ndir):
    (ndir / "partnerships.md").write_text(
        "We received {{ service_requests.total | thousands }} requests "
        "({{ service_requests.change_vs_prior_year | signed_pct }} vs {{ prior_year }}); "
        "service level {{ phone.service_level | pct }}, ASA {{ phone.asa_seconds | hms }}.\n",
        encoding="utf-8")
    out = narrative.render_narrative(load_metrics(), ndir)
    html = out["partnerships"]["html"]
    assert html == ("<p>We received 463,000 requests (\u22125% vs 2023); service level 82%, "
                    "ASA 0:00:47.</p>")
    assert out["partnerships"]["default"] is False


def test_missing_files_fall_back_to_the_shipped_defaults(tmp_path):
    out = narrative.render_narrative(load_metrics(), tmp_path / "does-not-exist")
    assert [s.key for s in narrative.NARRATIVE_SECTIONS] == list(out)
    for section in out.values():
        assert section["default"] is True
        assert str(section["html"]).strip()
    # the default highlights add what the Summary's key figures do not say (issue 27): e-mails
    # 58,695 of 64,500 → 91%; the on-time rate 0.77 → 77%
    assert "acknowledged 91% of the 64,500 e-mails" in out["highlights"]["html"]
    assert "1,290,000" not in out["highlights"]["html"]
    assert narrative.render_narrative(load_metrics(), None).keys() == out.keys()


def test_defaults_survive_absent_sections():
    metrics = {"year": 2024, "interactions": None, "general_inquiries": None, "phone": None,
               "email": None, "service_requests": None, "knowledge_base": None,
               "data_quality": None, "settings": load_profile().settings()}
    out = narrative.render_narrative(metrics, None)
    assert all(s["html"] for s in out.values())


def test_unknown_placeholder_names_file_and_line(ndir):
    (ndir / "partnerships.md").write_text(
        "# Partnerships\n\nFine: {{ year }}.\nBad: {{ foo }}.\n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError) as info:
        narrative.render_narrative(load_metrics(), ndir)
    message = str(info.value)
    assert message.startswith("raw/narrative/2024/partnerships.md, line 4:")
    # nothing is close to 'foo': the message lists the names there are
    assert "unknown placeholder 'foo' (the names there are: data_quality, email," in message


def test_unknown_attribute_names_file_and_line(ndir):
    (ndir / "partnerships.md").write_text("Line one.\n\n{{ phone.nope | pct }}\n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError, match=r"partnerships\.md, line 3: .*nope"):
        narrative.render_narrative(load_metrics(), ndir)


@pytest.mark.parametrize(("placeholder", "said"), [
    # the typo: was "'dict object' has no attribute 'asa'"
    ("{{ phone.asa | hms }}", "unknown placeholder 'phone.asa' (the closest: phone.asa_seconds)"),
    ("{{ servce_requests.total }}", "unknown placeholder 'servce_requests' (the closest: service_requests)"),
    ("{{ phone.monthly[0].asa }}", "unknown placeholder 'phone.monthly[0].asa' (the closest: "
                                   "phone.monthly[0].asa_seconds)"),
    ("{{ settings.servce }}", "unknown placeholder 'settings.servce' (the closest: settings.service)"),
])
def test_an_unknown_placeholder_is_named_with_the_closest_that_exist(ndir, placeholder, said):
    (ndir / "highlights.md").write_text(f"One.\n{placeholder}\n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError) as info:
        narrative.render_narrative(load_metrics(), ndir)
    assert str(info.value) == f"raw/narrative/2024/highlights.md, line 2: {said}"


def test_template_syntax_error_names_file_and_line(ndir):
    (ndir / "highlights.md").write_text("One.\nTwo {{ year \n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError, match=r"highlights\.md, line 2"):
        narrative.render_narrative(load_metrics(), ndir)


def test_sandbox_blocks_python_internals(ndir):
    (ndir / "highlights.md").write_text("{{ year.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(narrative.NarrativeError, match=r"highlights\.md"):
        narrative.render_narrative(load_metrics(), ndir)


def test_sandbox_keeps_its_range_limit(ndir):
    # the sandbox's own range refuses more than 100,000 items; the report's plain range once
    # replaced it, so this ran for 31 s and wrote a 10 MB page
    (ndir / "highlights.md").write_text("Fine.\n\n{% for i in range(10**7) %}x{% endfor %}\n",
                                        encoding="utf-8")
    with pytest.raises(narrative.NarrativeError, match=r"highlights\.md, line 3: OverflowError: .*range"):
        narrative.render_narrative(load_metrics(), ndir)


def test_a_narrative_error_is_one_message_naming_file_and_line(ndir, tmp_path, capsys):
    from pipeline.errors import CxError

    (ndir / "partnerships.md").write_text("Line one.\n{{ no_such_figure }}\n", encoding="utf-8")
    with pytest.raises(CxError) as error:
        narrative.render_narrative(load_metrics(), ndir)
    assert str(error.value).startswith("raw/narrative/2024/partnerships.md, line 2: unknown placeholder "
                                       "'no_such_figure' (the names there are: ")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "Text <script>alert(1)</script> inline",
        "<div onclick=\"x()\">block</div>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "![tracker](https://example.com/pixel.png)",
    ],
)
def test_raw_html_cannot_be_injected(source):
    html = str(narrative.markdown_to_html(source))
    assert "<script" not in html
    assert "<div" not in html and "<img" not in html
    assert not re.search(r"<[^>]*\bon[a-z]+=", html)  # no event-handler attribute in any tag
    assert 'href="javascript' not in html


def test_markup_in_metrics_is_escaped_in_the_narrative(ndir):
    metrics = load_metrics()
    metrics["service_requests"]["top_types"][0]["sr_type"] = "<script>alert(1)</script>"
    (ndir / "highlights.md").write_text("Top: {{ service_requests.top_types[0].sr_type }}\n",
                                        encoding="utf-8")
    html = str(narrative.render_narrative(metrics, ndir)["highlights"]["html"])
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_features_and_heading_levels():
    html = str(narrative.markdown_to_html(
        "# Top\n\nSome **bold** and *em* and [a link](https://www.toronto.ca/311).\n\n"
        "### Deep\n\n- one\n- two\n", base_level=3))
    assert "<h3>Top</h3>" in html
    assert "<h4>Deep</h4>" in html  # no skipped level
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert '<a href="https://www.toronto.ca/311">a link</a>' in html
    assert "<ul>" in html and "<li>one</li>" in html


def test_annual_report_places_every_section(ndir):
    (ndir / "partnerships.md").write_text("- Hire **12** agents for {{ year }}.\n", encoding="utf-8")
    meta = {"demo": False, "generated_from": [], "cancelled_note": None, "not_available": [],
            "narrative_dir": ndir}
    html = render_html(load_metrics(), meta)
    for heading in ("Highlights of the year", "Ongoing Improvements", "Partnerships and Enhancements",
                    "Recommendations"):
        assert f">{heading}</h" in html
    assert "<li>Hire <strong>12</strong> agents for 2024.</li>" in html
    # highlights in the Summary; partnerships and improvements in the Comments, before the wards
    assert html.index("Highlights of the year") < html.index('id="recommendations"')
    assert (html.index('id="comments"') < html.index('id="partnerships"')
            < html.index('id="ongoing-improvements"') < html.index('id="wards"'))
    assert '<a href="#partnerships">Partnerships and Enhancements</a>' in html


def test_bad_narrative_stops_the_render_before_writing(ndir, tmp_path):
    (ndir / "partnerships.md").write_text("{{ missing_value }}\n", encoding="utf-8")
    meta = {"demo": False, "generated_from": [], "cancelled_note": None, "not_available": [],
            "narrative_dir": ndir}
    out = tmp_path / "out"
    with pytest.raises(narrative.NarrativeError, match="partnerships.md, line 1"):
        render_annual_report(load_metrics(), meta, out)
    assert not out.exists() or not any(out.iterdir())


# --------------------------------------------------------------------------- hostile narratives
# The sandbox limits what a template reaches, the child process it is filled in how long it
# runs and how much it builds (narrative.FILL_SECONDS, FILL_MEMORY, FILL_TEXT): each hostile
# file ends with one message naming it, and the process that renders goes on.

def _children() -> set[int]:
    """This process's live child processes."""
    return children(os.getpid())


def _stopped(ndir: Path, name: str, source: str) -> str:
    """Render the narrative with ``name`` holding ``source`` in a thread; the NarrativeError's
    message. Fails when the render has not ended within ten times the time bound (it stalled)
    or left a process behind."""
    (ndir / name).write_text(source, encoding="utf-8")
    before = _children()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            narrative.render_narrative(load_metrics(), ndir)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 (handed to the test thread)
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10 * narrative.FILL_SECONDS)
    assert not worker.is_alive(), f"rendering {name} stalled"
    [error] = outcome
    assert isinstance(error, narrative.NarrativeError), error
    assert _children() <= before, "the child process that filled in the narrative is still there"
    assert "\n" not in str(error)
    return str(error)


def test_a_narrative_that_loops_is_stopped_at_the_time_bound(ndir):
    # two nested ranges, each within the sandbox's 100,000: 10^10 steps, hours of work
    message = _stopped(ndir, "highlights.md", "Fine.\n\n{% for a in range(100000) %}{% for b in range(100000) %}"
                                              "{% endfor %}{% endfor %}\n")
    assert message == ("raw/narrative/2024/highlights.md: filling in its placeholders took more than 2 s, so it "
                       "was stopped (a loop that runs too long?). A narrative file fills in within a fraction of a "
                       "second: simplify its loops and run again.")


def test_a_macro_that_calls_itself_is_stopped(ndir):
    message = _stopped(ndir, "partnerships.md", "{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}\n{{ again(1) }}\n")
    assert message.startswith("raw/narrative/2024/partnerships.md, line 1: a macro calls itself without end")


@pytest.mark.parametrize("source", [
    # a string doubled 40 times: 2^40 characters (a terabyte)
    '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}'
    "{{ ns.s|length }}\n",
    '{{ "x" * 10**10 }}\n',  # ten billion characters at once
    "{{ range(100000)|list|join(',')|center(10**10) }}\n",  # through the filters
])
def test_a_narrative_that_builds_huge_strings_is_stopped_at_the_memory_bound(ndir, source):
    message = _stopped(ndir, "ongoing_improvements.md", source)
    assert message == ("raw/narrative/2024/ongoing_improvements.md: filling in its placeholders needed more than "
                       "256 MB of memory, so it was stopped (a string or list built too large?). Simplify the "
                       "template and run again.")


def test_a_narrative_that_fills_in_to_too_much_text_is_stopped(ndir):
    # 2,000,000 characters: well within the memory bound, over the 1,048,576 a file may hold
    message = _stopped(ndir, "highlights.md", '{{ "x" * 2000000 }}\n')
    assert message == ("raw/narrative/2024/highlights.md: its placeholders fill in to 2,000,001 characters, more "
                       "than the 1,048,576 a narrative file may hold, so it was stopped. Simplify the template "
                       "and run again.")  # the x's and the file's line break


@pytest.mark.parametrize("source, unsafe", [
    ("{{ year.__class__.__mro__ }}", "__class__"),
    ("{{ settings.__class__.__init__ }}", "__init__"),  # __class__ gives an undefined that refuses use
    ("{{ cycler.__init__.__globals__ }}", "__init__"),
    ("{{ lipsum.__globals__['os'] }}", "__globals__"),
    ("{{ namespace.__init__.__globals__ }}", "__init__"),
    ("{{ self.__dict__ }}", "__dict__"),
    ('{{ "{0.__class__}".format(year) }}', "__class__"),
    # methods that would change the figures every later document reads
    ("{{ phone.update({'service_level': 0}) }}", "update"),
    ("{{ service_requests.top_types.append(1) }}", "append"),
    ("{{ settings.pop('city') }}", "pop"),
])
def test_a_narrative_that_reaches_for_attributes_is_refused(ndir, source, unsafe):
    message = _stopped(ndir, "partnerships.md", f"Line one.\n{source}\n")
    assert message.startswith("raw/narrative/2024/partnerships.md, line 2: ")
    assert f"'{unsafe}'" in message and "unsafe" in message


def test_a_hostile_narrative_stops_the_report_before_anything_is_written(ndir, tmp_path):
    (ndir / "highlights.md").write_text('{{ "x" * 10**10 }}\n', encoding="utf-8")
    out = tmp_path / "out"
    metrics = load_metrics()
    with pytest.raises(narrative.NarrativeError, match=r"highlights\.md: filling in its placeholders needed more"):
        render_annual_report(metrics, {"demo": False, "generated_from": [], "narrative_dir": ndir}, out)
    assert not out.exists() or not any(out.iterdir())
    assert metrics == load_metrics()  # nothing the child did reached the figures
    # and the process goes on: the next render with a good file works
    (ndir / "highlights.md").write_text("All {{ service_requests.total | thousands }} requests.\n", encoding="utf-8")
    assert "All 463,000 requests." in narrative.render_narrative(metrics, ndir)["highlights"]["html"]
