"""The render's head start (pipeline/report/head_start.py): the PDF workers forked and the
renderer warmed up before the figures exist, as `report` does while dbt builds. Real WeasyPrint
workers and vl-convert; the figures are the hand-made key metrics of tests/support."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipeline.report.annual import render_annual_report
from pipeline.report.environment import ENV
from pipeline.report.head_start import TEMPLATES, HeadStart
from pipeline.report.pdf import PDF_WORKERS
from tests.support.key_metrics import META, load_metrics
from tests.support.polling import wait_until
from tests.support.processes import children


def digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_documents_rendered_after_a_head_start_are_the_same_bytes(tmp_path: Path) -> None:
    from pipeline.report import charts

    ENV.cache.clear()  # an earlier test of this process may have compiled the templates
    charts.ward_geometry.cache_clear()  # …or made the ward map's shapes
    with HeadStart(warm=True, templates_cache=tmp_path / "templates") as head:
        head.fork()
        head.warm_up()
        head.ready()
        assert charts.ward_geometry.cache_info().currsize == 1  # made by the head start
        ahead = render_annual_report(load_metrics(), META, tmp_path / "ahead", head=head)
        assert head.runtime_started  # vl-convert's runtime was started by the head start, not the render
    plain = render_annual_report(load_metrics(), META, tmp_path / "plain")
    # six files each: the three documents as HTML and PDF, byte for byte the same
    assert len(digests(ahead)) == 6
    assert digests(ahead) == digests(plain)
    # the five templates were compiled through the run's template cache (kept for the next run)
    assert len(list((tmp_path / "templates").iterdir())) == len(TEMPLATES) == 5


def test_a_failure_after_the_head_start_leaves_no_worker() -> None:
    before = children(os.getpid())
    with pytest.raises(RuntimeError, match="the build failed"), HeadStart(warm=True) as head:
        head.fork()
        head.warm_up()
        workers = children(os.getpid()) - before
        # two cores here: two PDF workers, forked at once (one core: none, the PDFs are laid
        # out in this process)
        assert len(workers) == (PDF_WORKERS if PDF_WORKERS > 1 else 0)
        raise RuntimeError("the build failed")
    wait_until(lambda: not (children(os.getpid()) & workers), 10, "the PDF workers to exit")


def test_the_workers_are_forked_once() -> None:
    before = children(os.getpid())
    with HeadStart(warm=False) as head:
        head.fork()
        first = children(os.getpid()) - before
        head.warm_up()  # forks nothing more
        head.fork()
        assert children(os.getpid()) - before == first
