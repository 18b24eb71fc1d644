"""Reruns give byte-identical outputs: the charts drawn twice, the report rendered twice from
the sample key metrics (each run draws every chart and lays out every PDF from scratch),
`report` run again on the end-to-end build (tests/conftest.py), where it reuses the published
PDFs, and `report --force` there, which lays out every PDF and draws every chart again. Each is a second full render,
so they run in the slow suite, beside the fault tests (which compare a rerun with an
uninterrupted run)."""

from __future__ import annotations

from pathlib import Path

from pipeline.cli import main
from pipeline.report import charts
from pipeline.report.annual import render_annual_report
from pipeline.report.chart_specs import key_metric_specs
from tests.integration.test_render import META, NAMES, load_metrics, sha256


def test_charts_are_deterministic(monkeypatch) -> None:
    first = key_metric_specs(load_metrics())
    monkeypatch.setattr(charts, "draw_spec", charts.draw_spec.__wrapped__)  # vl-convert draws again
    again = key_metric_specs(load_metrics())
    assert [str(s.svg) for s in again] == [str(s.svg) for s in first]


def test_render_is_byte_identical_on_second_run(tmp_path: Path) -> None:
    first = render_annual_report(load_metrics(), META, tmp_path / "first")
    charts.draw_spec.cache_clear()  # vl-convert draws every chart again
    again = render_annual_report(load_metrics(), META, tmp_path / "again")
    assert [p.name for p in again] == [f"{stem}.{ext}" for stem in NAMES.values() for ext in ("html", "pdf")]
    assert [sha256(p) for p in again] == [sha256(p) for p in first]


def test_rerun_is_idempotent(pipeline_build: tuple[Path, Path]) -> None:
    raw, output = pipeline_build
    before = (output / "2024" / "key_metrics.json").read_bytes()
    pdf_before = (output / "2024" / "cx-annual-report-2024.pdf").read_bytes()
    args = [
        "report",
        "--year",
        "2024",
        "--raw",
        str(raw),
        "--output",
        str(output),
        "--max-reject-rate",
        "0.5",
    ]
    charts.draw_spec.cache_clear()  # the rerun draws its charts again
    assert main(args) == 0
    assert (output / "2024" / "key_metrics.json").read_bytes() == before
    assert (output / "2024" / "cx-annual-report-2024.pdf").read_bytes() == pdf_before


def test_force_lays_out_again_to_the_same_bytes(pipeline_build: tuple[Path, Path], capsys) -> None:
    """A run that reuses the published PDFs and one that lays out all of them (--force, charts
    drawn again too) publish the same bytes, manifest included."""
    raw, output = pipeline_build
    args = ["report", "--year", "2024", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]
    assert main(args) == 0
    assert "laid out: none" in capsys.readouterr().err  # every PDF reused
    published = {p.name: sha256(p) for p in sorted((output / "2024").iterdir())}
    assert main([*args, "--force"]) == 0
    assert "reused" not in capsys.readouterr().err
    assert {p.name: sha256(p) for p in sorted((output / "2024").iterdir())} == published
