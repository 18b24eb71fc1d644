"""The BIA report's and its e-mail's year-over-year sentence: one wording
(``pipeline.report.formatting.fmt_year_over_year``) in both, a zero prior included."""

from __future__ import annotations

import pytest

from pipeline.bia.batch import change_words
from pipeline.bia.mail import body_text


def record(current, prior, change):
    return {"bia_name": "Kensington Market BIA", "month": "2024-07", "service_requests": current,
            "same_month_prior_year": prior, "change_vs_same_month_prior_year": change}


CASES = [
    # current, prior, change, report (after "N service requests: "), e-mail (in brackets)
    (45, 61, (45 - 61) / 61, "26% fewer than the 61 in July 2023", " (26% fewer than the 61 a year earlier)."),
    (3, 2, 0.5, "50% more than the 2 in July 2023", " (50% more than the 2 a year earlier)."),
    (4, 4, 0.0, "the same as in July 2023", " (the same as a year earlier)."),
    (5, 0, None, "up from 0 in July 2023", " (up from 0 a year earlier)."),
    (5, None, None, None, "."),
]


@pytest.mark.parametrize(("current", "prior", "change", "report", "mail"), CASES)
def test_report_and_mail_say_the_same(current, prior, change, report, mail):
    rec = record(current, prior, change)
    assert change_words(rec, "July 2023") == report
    figure = (f"In July 2024, 311 received {current} service requests in the Kensington Market BIA "
              f"area{mail}\n")
    assert figure in body_text(rec, ["Jo"], demo=False)


def test_mail_without_requests_makes_no_comparison():
    body = body_text(record(0, 0, None), [], demo=False)
    assert "311 received no service requests in the Kensington Market BIA area in July 2024.\n" in body
    assert "a year earlier" not in body
