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


# --------------------------------------------------------------------------- issue 27


def top(*rows):
    """Top-type rows as the mart gives them: (type, count, how many types have that count)."""
    return [{"sr_type": t, "count": c, "share": 0.1, "tied": n} for t, c, n in rows]


def test_the_most_frequent_type_is_named_only_when_no_other_type_ties():
    from pipeline.bia.batch import top_type_sentence

    assert str(top_type_sentence(top(("Graffiti", 4, 1), ("Litter", 2, 1)))) == \
        "The most frequent request was <strong>Graffiti</strong> (4)."
    assert str(top_type_sentence(top(("A", 3, 2), ("B", 3, 2), ("C", 1, 1)))) == \
        "The most frequent requests were <strong>A</strong> and <strong>B</strong> (3 each)."
    # Roncesvalles in the demo: five types with 1 each, more than the table lists tie too
    assert str(top_type_sentence(top(*[(t, 1, 7) for t in "ABCDE"]))) == \
        "Seven request types had 1 request each; none had more."
    assert str(top_type_sentence(top(*[(t, 1, 5) for t in "ABCDE"]))) == \
        "Five request types had 1 request each; none had more."
    assert top_type_sentence([]) is None
    # a type name is text, never markup
    assert "&lt;b&gt;" in str(top_type_sentence(top(("<b>", 1, 1))))


def test_the_change_from_the_month_before_in_words():
    from pipeline.bia.batch import previous_month_words

    rec = {"service_requests": 49, "previous_month": 53, "change_vs_previous_month": (49 - 53) / 53}
    assert previous_month_words(rec, "June 2024") == "8% fewer than the 53 in June 2024"  # −7.5% → 8%
    assert previous_month_words({**rec, "previous_month": 0, "change_vs_previous_month": None},
                                "June 2024") == "up from 0 in June 2024"
    assert previous_month_words({**rec, "previous_month": None, "change_vs_previous_month": None},
                                "June 2024") is None


def test_a_bias_311_contact_is_read_from_bia_liaisons_csv(tmp_path):
    from pipeline.bia.batch import typed_name_key
    from pipeline.bia.liaisons import LiaisonError

    def read_liaisons(raw):
        from pipeline.bia.liaisons import read_liaisons

        return read_liaisons(raw, typed_name_key)

    assert read_liaisons(tmp_path) == {}
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "bia_liaisons.csv").write_text(
        "bia_name,name,title,phone,email\n  KENSINGTON market ,Ana Lima,BIA Liaison,416-555-0100,ana@example.org\n",
        encoding="utf-8")
    liaison = read_liaisons(tmp_path)["kensington market"]
    assert (liaison.name, liaison.title, liaison.phone, liaison.email) == (
        "Ana Lima", "BIA Liaison", "416-555-0100", "ana@example.org")
    (ref / "bia_liaisons.csv").write_text("bia_name,name,email\nKensington Market BIA,Ana,not an address\n",
                                          encoding="utf-8")
    with pytest.raises(LiaisonError, match=r"bia_liaisons.csv, line 2: needs a BIA name"):
        read_liaisons(tmp_path)
    (ref / "bia_liaisons.csv").write_text("bia_name,name,email\nA BIA,Ana,a@x.org\na,Bo,b@x.org\n",
                                          encoding="utf-8")
    with pytest.raises(LiaisonError, match="listed twice"):
        read_liaisons(tmp_path)
