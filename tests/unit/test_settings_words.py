"""The settings own the words: no template, chart module, BIA module or default narrative states
a threshold, the surge rule, the cut-off hour, the per-residents base or the city's names as a
literal. Each comes from the settings (``setting_words``, ``settings.*`` placeholders)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.paths import PACKAGE_DIR, TEMPLATES_DIR
from pipeline.profile import load_profile
from pipeline.report.formatting import fmt_times, place_name, setting_words
from pipeline.report.styles import stylesheet, with_names

SOURCES = sorted(
    [*TEMPLATES_DIR.glob("*.html"), *(TEMPLATES_DIR / "narrative").glob("*.md"), *(TEMPLATES_DIR / "css").glob("*.css")]
    + [PACKAGE_DIR / "report" / f"{m}.py" for m in ("chart_specs", "charts", "events", "context", "rows",
                                                     "sources", "annual", "narrative")]
    + [PACKAGE_DIR / "bia" / f"{m}.py" for m in ("batch", "mail")]
)
SOURCES = [p for p in SOURCES if p.name != "README.md"]  # the narrative README is never rendered
LITERALS = {
    "a duration": r"\b\d[\d,.]*\s+(?:second|minute|hour|day)s\b",
    "a clock time": r"\b\d{1,2}\s?p\.m\.",  # the cut-off hour (a.m. hours are the clock change's)
    "a multiple in words": r"\b(?:twice|three times|four times)\b",
    "a per-residents base": r"\bper\s+\d[\d,]*\s+residents",
    "a share": r"\b(?!100%)\d{1,3}(?:\.\d+)?%(?!\})",  # a target; not a CSS 100% or Jinja's %}
    "the city's name": r"Toronto",
    # a count as a rule's floor (not the service's 311 number)
    "a floor of requests or inquiries": r"\b(?!311\b)\d[\d,]*\s+(?:service requests|general inquiries)\b",
}


def _literals(text: str, kinds: tuple[str, ...] = tuple(LITERALS)) -> list[tuple[str, str]]:
    return [(what, m.group(0)) for what in kinds for m in re.finditer(LITERALS[what], text)]


def _document_text(path: Path) -> str:
    """What of a source can reach a document: a template without its comments; a Python
    module's string literals without docstrings and comments."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return re.sub(r"\{#.*?#\}|<!--.*?-->|/\*.*?\*/", "", text, flags=re.S)
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return "\n".join(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings)


def test_the_scan_covers_the_documents_sources():
    names = {p.name for p in SOURCES}
    assert {"annual_report.html", "key_metrics.html", "bia_report.html", "bia_index.html", "macros.html",
            "highlights.md", "chart_specs.py", "charts.py", "events.py", "mail.py"} <= names
    assert all(p.is_file() for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_source_states_a_setting_as_a_literal(path: Path):
    # a stylesheet's percentages are layout: in CSS only the names are looked for
    found = _literals(_document_text(path), ("the city's name",) if path.suffix == ".css" else tuple(LITERALS))
    assert found == [], f"{path.name} states {found}: take it from the settings (setting_words)"


def test_the_scan_catches_each_literal_kind():
    # the sentences the documents said before the settings owned them: each one is caught
    said = ("answer 85% of calls within 75 seconds. callers who hung up within 5 seconds; within 48 hours; "
            "at least 100 service requests and at least twice the median of the 28 days before it; "
            "By 4 p.m.; per 1,000 residents; 1,000 general inquiries; 311 Toronto")
    assert sorted({what for what, _ in _literals(said)}) == sorted(LITERALS)


def test_setting_words_follow_the_settings():
    toronto = setting_words(load_profile().settings())
    assert toronto["phone_threshold"] == "75 seconds" and toronto["short_abandon"] == "5 seconds"
    assert toronto["email_standard"] == "48 hours" and toronto["cutoff"] == "4 p.m."
    assert toronto["surge_rule"] == ("a day with at least 100 service requests and at least twice the median "
                                     "of the 28 days before it")
    assert toronto["inquiry_surge_rule"] == ("at least twice the median of the topic's 4 quarters before and "
                                             "at least 1,000 general inquiries")
    assert (toronto["place"], toronto["author"], toronto["area"]) == (
        "Toronto", "City of Toronto – Customer Experience Division", "City of Toronto 311")
    other = setting_words({**load_profile().settings(), "city": "Town of Oakville", "service": "ServiceOakville",
                           "phone_service_level_seconds": 60, "surge_factor": 3, "surge_floor": 50,
                           "surge_window_days": 14, "surge_profile_cutoff_hour": 12, "per_residents": 10000})
    assert other["phone_threshold"] == "60 seconds" and other["cutoff"] == "noon"
    assert other["surge_rule"] == ("a day with at least 50 service requests and at least three times the "
                                   "median of the 14 days before it")
    assert (other["place"], other["per_residents"]) == ("Oakville", "10,000")
    assert (fmt_times(2), fmt_times(2.5), fmt_times(7)) == ("twice", "2.5 times", "7 times")
    assert place_name("Ville de Montréal") == "Ville de Montréal"  # no English prefix: as given


def test_python_sources_are_read_for_their_strings_not_their_docstrings(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Rendering twice gives the same bytes."""\n\n\ndef f(y):\n'
                      '    """28 days of examples."""\n    return f"within 75 seconds of {y}"  # 48 hours\n',
                      encoding="utf-8")
    assert _literals(_document_text(module)) == [("a duration", "75 seconds")]
    template = tmp_path / "t.html"
    template.write_text("{# per 1,000 residents #}<p>{{ words.surge_rule }}, by 4 p.m.</p>", encoding="utf-8")
    assert _literals(_document_text(template)) == [("a clock time", "4 p.m.")]


def test_the_pdf_running_heads_take_the_profiles_names():
    css = with_names(stylesheet("pdf"), setting_words(load_profile().settings()))
    assert 'content: "City of Toronto 311";' in css
    assert 'string-set: demo-flag "Synthetic demo data – not City of Toronto data";' in css
    other = with_names(stylesheet("pdf", "bia.css"), {"area": 'Ville "A" 311', "city": "Ville"})
    assert 'content: "Ville \\22 A\\22  311";' in other and "{{" not in other
