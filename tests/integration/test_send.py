"""Sending the BIA reports (pipeline/send.py) against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.bia import mail as send
from pipeline.cli import main

MONTH = "2024-07"
RECORDS = [
    {"bia_name": "Baby Point Gates BIA", "month": MONTH, "service_requests": 3,
     "same_month_prior_year": 2, "change_vs_same_month_prior_year": 0.5},
    {"bia_name": "Kensington Market BIA", "month": MONTH, "service_requests": 0,
     "same_month_prior_year": 0, "change_vs_same_month_prior_year": None},
    {"bia_name": "Bloor Annex BIA", "month": MONTH, "service_requests": 1,
     "same_month_prior_year": None, "change_vs_same_month_prior_year": None},
]
# Kensington: two rows → two recipients, written differently from the seed name;
# Bloor Annex: no contact (listed, not guessed); "Nowhere" names no seed BIA.
CONTACTS = """\
bia_name,email,contact_name
Baby Point Gates BIA,office@bpg.example,Ana Lima
kensington market,chair@km.example,Jo Côté
Kensington Market BIA,staff@km.example,
Nowhere BIA,x@nowhere.example,X
"""


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.senders: list[str] = []  # the envelope's MAIL FROM of each message

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        self.senders.append(envelope.mail_from)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    """A month's report folder as the BIA batch leaves it (PDF bytes stand in for reports)."""
    raw = tmp_path / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "bia_contacts.csv").write_text(CONTACTS, encoding="utf-8")
    out = tmp_path / "output" / "bia" / MONTH
    out.mkdir(parents=True)
    (out / "bia_metrics.json").write_text(json.dumps(RECORDS), encoding="utf-8")
    for i, rec in enumerate(RECORDS):
        slug = send.slugify(rec["bia_name"])
        # every byte value, so a transfer-encoding slip would show
        (out / f"{slug}.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * (i + 3) + b"%%EOF\n")
    return raw, out


def env_for(port: int) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_FROM": "cx311@toronto.example"}


def attachments(raw_message: bytes) -> list[tuple[str, bytes]]:
    msg = email.message_from_bytes(raw_message, policy=email.policy.default)
    return [(part.get_filename(), part.get_content()) for part in msg.iter_attachments()]


def test_default_writes_eml_files_only_and_they_are_deterministic(reports, smtp_server) -> None:
    raw, out = reports
    recorder, port = smtp_server
    first = send.send_reports(out, raw, env=env_for(port))  # SMTP configured but not asked to send
    assert recorder.messages == []
    assert sorted(p.name for p in first.written) == ["baby-point-gates-bia.eml", "kensington-market-bia.eml"]
    assert first.no_contact == ["Bloor Annex BIA"]
    assert first.unknown_contacts == ["Nowhere BIA"]
    assert not (out / "send_log.jsonl").exists()
    eml = (out / "outbox" / "baby-point-gates-bia.eml").read_bytes()
    send.send_reports(out, raw, env=env_for(port))
    assert (out / "outbox" / "baby-point-gates-bia.eml").read_bytes() == eml
    msg = email.message_from_bytes(eml, policy=email.policy.default)
    assert msg["Message-ID"] == "<bia-report.2024-07.baby-point-gates-bia@cx311>"
    assert msg["Date"] == "Thu, 01 Aug 2024 09:00:00 -0400"  # first of the next month, 09:00 Toronto
    assert msg["To"] == "Ana Lima <office@bpg.example>"
    # the body asks the reader to reply: replies go to the sender unless SMTP_REPLY_TO says otherwise
    assert (msg["From"], msg["Reply-To"]) == ("cx311@toronto.example", "cx311@toronto.example")
    body = msg.get_body(("plain",)).get_content()
    assert "Hello Ana Lima," in body
    assert "3 service requests in the Baby Point Gates BIA area (50% more than the 2 a year earlier)" in body
    assert attachments(eml) == [("311-report-baby-point-gates-bia-2024-07.pdf",
                                 (out / "baby-point-gates-bia.pdf").read_bytes())]


def test_send_delivers_each_message_once_and_never_twice(reports, smtp_server) -> None:
    raw, out = reports
    recorder, port = smtp_server
    summary = send.send_reports(out, raw, send=True, env=env_for(port))
    assert summary.ok and sorted(summary.sent) == ["Baby Point Gates BIA", "Kensington Market BIA"]
    assert summary.no_contact == ["Bloor Annex BIA"]
    got = {tuple(sorted(rcpts)): raw_msg for rcpts, raw_msg in recorder.messages}
    assert len(recorder.messages) == 2
    assert set(got) == {("office@bpg.example",), ("chair@km.example", "staff@km.example")}
    for rcpts, slug in ((("office@bpg.example",), "baby-point-gates-bia"),
                        (("chair@km.example", "staff@km.example"), "kensington-market-bia")):
        [(name, data)] = attachments(got[rcpts])
        assert name == f"311-report-{slug}-2024-07.pdf"
        assert data == (out / f"{slug}.pdf").read_bytes()
    km = email.message_from_bytes(got[("chair@km.example", "staff@km.example")], policy=email.policy.default)
    assert "no service requests in the Kensington Market BIA area in July 2024" in km.get_body(("plain",)).get_content()
    log = [json.loads(line) for line in (out / "send_log.jsonl").read_text("utf-8").splitlines()]
    # each message's trip: "sending" before its body went out, then "sent"
    assert [(e["bia"], e["state"]) for e in log] == [
        ("Baby Point Gates BIA", "sending"), ("Baby Point Gates BIA", "sent"),
        ("Kensington Market BIA", "sending"), ("Kensington Market BIA", "sent")]
    assert all(e["month"] == MONTH and e["refused"] == [] for e in log if e["state"] == "sent")

    again = send.send_reports(out, raw, send=True, env=env_for(port))
    assert again.sent == [] and sorted(again.already_sent) == ["Baby Point Gates BIA", "Kensington Market BIA"]
    assert len(recorder.messages) == 2

    forced = send.send_reports(out, raw, send=True, force=True, env=env_for(port))
    assert sorted(forced.sent) == ["Baby Point Gates BIA", "Kensington Market BIA"]
    assert len(recorder.messages) == 4
    assert len((out / "send_log.jsonl").read_text("utf-8").splitlines()) == 8  # two trips of two lines more


def test_cli_sends_only_with_send_and_smtp_settings(reports, smtp_server, monkeypatch, capsys) -> None:
    raw, out = reports
    recorder, port = smtp_server
    output = out.parent.parent
    args = ["bia-send", "--month", MONTH, "--raw", str(raw), "--output", str(output)]
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.setenv("SEND", "1")
    assert main(args) == 2  # SEND=1 without SMTP settings: refused, nothing sent
    assert "SMTP_HOST is not set" in capsys.readouterr().err
    for key, value in env_for(port).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SEND")
    assert main(args) == 0
    assert recorder.messages == []
    monkeypatch.setenv("SEND", "1")
    assert main(args) == 0
    assert len(recorder.messages) == 2
    err = capsys.readouterr().err
    assert "sent 2" in err and "Bloor Annex BIA" in err
    assert main([*args, "--send"]) == 0
    assert len(recorder.messages) == 2  # already sent: nothing again


def test_a_contact_with_a_line_break_is_refused_and_the_rest_go_out(reports, smtp_server) -> None:
    raw, out = reports
    recorder, port = smtp_server
    # Baby Point Gates' contact name carries CR/LF and a header: a header-injection attempt
    (raw / "reference" / "bia_contacts.csv").write_text(
        'bia_name,email,contact_name\n'
        'Baby Point Gates BIA,office@bpg.example,"Ana\r\nBcc: evil@attacker.example"\n'
        'Kensington Market BIA,staff@km.example,\n'
        'Bloor Annex BIA,annex@ba.example,Bo\n', encoding="utf-8")
    summary = send.send_reports(out, raw, send=True, env=env_for(port))
    assert list(summary.failed) == ["Baby Point Gates BIA"]
    assert "line break" in summary.failed["Baby Point Gates BIA"] and "refused" in summary.failed["Baby Point Gates BIA"]
    assert sorted(summary.sent) == ["Bloor Annex BIA", "Kensington Market BIA"]
    assert sorted(r for rcpts, _ in recorder.messages for r in rcpts) == ["annex@ba.example", "staff@km.example"]
    assert not any(b"attacker" in data for _, data in recorder.messages)
    assert summary.lines()[0].startswith("BIA report e-mails for 2024-07: sent 2, written 2, skipped 0, failed 1")


def test_a_server_that_cannot_be_reached_fails_each_bia_without_a_traceback(reports) -> None:
    raw, out = reports
    closed = free_port()  # nothing listens there
    summary = send.send_reports(out, raw, send=True, env={**env_for(closed)})
    assert sorted(summary.failed) == ["Baby Point Gates BIA", "Kensington Market BIA"]
    assert all(e.startswith("ConnectionRefusedError") for e in summary.failed.values())
    assert summary.sent == [] and not (out / "send_log.jsonl").exists()
    assert summary.lines()[0].startswith("BIA report e-mails for 2024-07: sent 0, written 2, skipped 1, failed 2")


def test_reply_to_is_a_setting_and_the_default_sender_is_311s_mailbox(reports, smtp_server) -> None:
    raw, out = reports
    recorder, port = smtp_server
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
           "SMTP_REPLY_TO": "BIA liaison <bia-reports@toronto.example>"}
    summary = send.send_reports(out, raw, send=True, env=env)  # no SMTP_FROM, no SMTP_USER
    assert summary.ok and len(recorder.messages) == 2
    for (_, data), mail_from in zip(recorder.messages, recorder.senders, strict=True):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert msg["From"] == "311 Toronto Customer Experience Division <311@toronto.ca>"
        assert msg["Reply-To"] == "BIA liaison <bia-reports@toronto.example>"
        assert "reply to this e-mail" in msg.get_body(("plain",)).get_content()
        assert mail_from == "311@toronto.ca"
    # the outbox copy carries the same headers
    eml = email.message_from_bytes((out / "outbox" / "baby-point-gates-bia.eml").read_bytes(),
                                   policy=email.policy.default)
    assert eml["Reply-To"] == "BIA liaison <bia-reports@toronto.example>"
    # a login name that is not an address is not used as the sender
    send.send_reports(out, raw, env={"SMTP_USER": "svc_cx311"})
    eml = email.message_from_bytes((out / "outbox" / "baby-point-gates-bia.eml").read_bytes(),
                                   policy=email.policy.default)
    # the shipped city profile's mail.from (pipeline/data/city.yaml), with no reply_to of its own
    toronto = "311 Toronto Customer Experience Division <311@toronto.ca>"
    assert (eml["From"], eml["Reply-To"]) == (toronto, toronto)


@pytest.mark.parametrize("value", ["not an address", "a@one.example, b@two.example",
                                   "x@one.example\r\nBcc: evil@attacker.example"])
def test_a_bad_reply_to_or_from_is_refused(reports, value) -> None:
    raw, out = reports
    with pytest.raises(send.SendError, match="SMTP_REPLY_TO .* is not one e-mail address"):
        send.send_reports(out, raw, env={"SMTP_REPLY_TO": value})
    with pytest.raises(send.SendError, match="SMTP_FROM .* is not one e-mail address"):
        send.send_reports(out, raw, env={"SMTP_FROM": value})
    assert not (out / "outbox").exists()  # refused before any message is written


def test_without_a_contacts_file_the_summary_names_it_and_its_columns(reports, monkeypatch, capsys) -> None:
    raw, out = reports
    (raw / "reference" / "bia_contacts.csv").unlink()
    summary = send.send_reports(out, raw, env={})
    assert summary.written == [] and len(summary.no_contact) == 3
    path = raw / "reference" / "bia_contacts.csv"
    assert summary.lines()[1:] == [
        "  nothing sent (set SMTP_HOST etc. and SEND=1 / --send to send)",
        f"  no contacts file: {path} does not exist, so no e-mail was made for the 3 BIA(s). Create it "
        "as CSV with the columns bia_name, email, contact_name (contact_name may be blank; one row "
        "per recipient, a BIA may have several) and run again.",
    ]
    for key in ("SMTP_HOST", "SEND"):
        monkeypatch.delenv(key, raising=False)
    assert main(["bia-send", "--month", MONTH, "--raw", str(raw), "--output", str(out.parent.parent)]) == 0
    err = capsys.readouterr().err
    assert f"no contacts file: {path} does not exist" in err and "bia_name, email, contact_name" in err
    # with the file, the BIAs it does not name are listed as before
    path.write_text("bia_name,email,contact_name\nBloor Annex BIA,annex@ba.example,Bo\n", encoding="utf-8")
    summary = send.send_reports(out, raw, env={})
    assert summary.contacts_missing is None and summary.no_contact == ["Baby Point Gates BIA", "Kensington Market BIA"]
    assert "  2 BIA(s) without a contact in bia_contacts.csv (no e-mail made):" in summary.lines()


def _header_lines(raw: bytes) -> list[str]:
    return raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n").decode("ascii").split("\n")


def test_a_sent_message_carries_the_time_it_was_sent_and_the_subject_stays_on_its_line(reports, smtp_server) -> None:
    """Issue 27: the outbox copy keeps its fixed Date (deterministic), a message sent is dated when
    it was sent (not August 1, 2024, among old mail); "Subject:" is never left alone on a line."""
    import datetime as dt
    from email.utils import parsedate_to_datetime

    raw, out = reports
    recorder, port = smtp_server
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert send.send_reports(out, raw, send=True, env=env_for(port)).ok
    after = dt.datetime.now(dt.UTC)
    assert len(recorder.messages) == 2
    for _rcpts, sent in recorder.messages:
        msg = email.message_from_bytes(sent, policy=email.policy.default)
        assert before <= parsedate_to_datetime(msg["Date"]) <= after
    eml = (out / "outbox" / "baby-point-gates-bia.eml").read_bytes()
    assert email.message_from_bytes(eml, policy=email.policy.default)["Date"] == "Thu, 01 Aug 2024 09:00:00 -0400"
    # "Subject: 311 service request report for Baby Point Gates BIA, July 2024 (demo data)" is 83
    # characters (the demo's): one line, not "Subject:" then the text on the next
    from pipeline.profile import load_profile

    demo = send.build_message(RECORDS[0], "baby-point-gates-bia", b"%PDF-1.7", [("Ana", "a@bpg.example")],
                              "cx311@toronto.example", True, load_profile()).as_bytes()
    for raw_msg in [demo, eml] + [m for _r, m in recorder.messages]:
        lines = _header_lines(raw_msg)
        subject = next(i for i, line in enumerate(lines) if line.startswith("Subject:"))
        assert lines[subject].startswith("Subject: 311 service request report for ")
        assert not lines[subject + 1].startswith((" ", "\t"))  # not folded
