"""How figures read (pipeline/report/formatting.py), and the year-over-year wording the BIA
reports and their e-mails share."""

from __future__ import annotations

import pytest

from pipeline.report.environment import ENV
from pipeline.report.formatting import (
    fmt_hms,
    fmt_pct,
    fmt_signed_pct,
    fmt_thousands,
    fmt_year_over_year,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.815, "82%"), (0.8149, "81%"), (0.82, "82%"), (0.005, "1%"), (0.0, "0%"),
     # a share above 0 that rounds to 0 is "<1%", never "0%" (issue 27: Fleet Services' 690 of
     # 463,000 = 0.15%)
     (0.0049, "<1%"), (690 / 463000, "<1%"),
     (1.0, "100%"), (None, "n/a"), (-0.005, "\u22121%")],
)
def test_pct_rounds_half_away_from_zero(value, expected):
    assert fmt_pct(value) == expected
    assert ENV.filters["pct"](value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [((463000 - 487000) / 487000, "\u22125%"), (0.1013, "+10%"), (0.0, "0%"),
     (-0.004, "0%"), (-0.005, "\u22121%"), (None, "n/a")],
)
def test_signed_pct(value, expected):
    assert fmt_signed_pct(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(47, "0:00:47"), (292, "0:04:52"), (46.5, "0:00:47"), (3725.2, "1:02:05"), (None, "n/a")],
)
def test_hms(value, expected):
    assert fmt_hms(value) == expected


def test_thousands():
    assert fmt_thousands(1290000) == "1,290,000"
    assert fmt_thousands(999.5) == "1,000"
    assert fmt_thousands(None) == "n/a"
    assert fmt_thousands(0) == "0"


# --------------------------------------------------------------------------- year over year


@pytest.mark.parametrize(
    ("current", "prior", "change", "when", "expected"),
    [
        (45, 61, (45 - 61) / 61, "in July 2023", "26% fewer than the 61 in July 2023"),
        (3, 2, 0.5, "a year earlier", "50% more than the 2 a year earlier"),
        (2400, 1200, 1.0, "in July 2023", "100% more than the 1,200 in July 2023"),
        (7, 7, 0.0, "in July 2023", "the same as in July 2023"),
        (7, 7, 0.0, "a year earlier", "the same as a year earlier"),
        # a zero prior: no percent of nothing, no division by zero
        (5, 0, None, "in July 2023", "up from 0 in July 2023"),
        (1, 0, None, "a year earlier", "up from 0 a year earlier"),
        (0, 0, None, "in July 2023", "the same as in July 2023"),
        (0, 4, -1.0, "in July 2023", "100% fewer than the 4 in July 2023"),
        # nothing to compare with: say nothing
        (5, None, None, "in July 2023", None),
        (None, 5, None, "in July 2023", None),
        (6, 5, None, "in July 2023", None),
    ],
)
def test_year_over_year_words(current, prior, change, when, expected):
    assert fmt_year_over_year(current, prior, change, when) == expected
