"""Sending the BIA reports when things go wrong (pipeline/bia/mail.py), against a real SMTP
server on 127.0.0.1 (aiosmtpd) that accepts some messages and then drops its connections or
stops answering, and a real `bia-send` process killed mid-batch: what the server accepted is
logged as sent, the rest is sent by the rerun, and no recipient ever gets a report twice.
Also: bia_contacts.csv changed after a send."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.bia import mail as send
from tests.support.polling import wait_until

PROJECT = Path(__file__).resolve().parents[2]
MONTH = "2024-07"
# four BIAs, one recipient each, sent in this order (bia_metrics.json's)
BIAS = ["Baby Point Gates BIA", "Bloor Annex BIA", "Kensington Market BIA", "Little Italy BIA"]
ADDRESS = {name: f"{send.slugify(name)}@bia.example" for name in BIAS}
HOLD = 30  # seconds a held server waits for the test before it answers anyway


class Flaky:
    """An aiosmtpd handler recording each message it accepts, which can be told to drop every
    connection at MAIL FROM once it has accepted ``drop_after`` messages, to drop the
    connection instead of answering message ``lose_reply_of`` (1-based) after recording it, or
    to hold message ``hold_mail_of`` at its MAIL FROM or ``hold_reply_of`` before answering,
    until released."""

    def __init__(self) -> None:
        self.accepted: list[list[str]] = []  # each accepted message's recipients, in order
        self.drop_after: int | None = None
        self.lose_reply_of: int | None = None
        self.hold_mail_of: int | None = None
        self.hold_reply_of: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def _hold(self) -> None:
        self.holding.set()
        for _ in range(HOLD * 50):
            if self.release.is_set():
                return
            await asyncio.sleep(0.02)

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802 (aiosmtpd's name)
        if self.drop_after is not None and len(self.accepted) >= self.drop_after:
            server.transport.close()
            return "421 4.3.2 going away"  # never arrives: the connection is closed
        if self.hold_mail_of == len(self.accepted) + 1:
            await self._hold()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.accepted.append(sorted(envelope.rcpt_tos))
        if self.lose_reply_of == len(self.accepted):
            server.transport.close()  # accepted, and the answer lost with the connection
        if self.hold_reply_of == len(self.accepted):
            await self._hold()
        return "250 2.0.0 accepted"

    def received(self) -> Counter:
        """How many reports each address received."""
        return Counter(addr for rcpts in self.accepted for addr in rcpts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    handler = Flaky()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "bia_contacts.csv").write_text(
        "bia_name,email,contact_name\n" + "".join(f"{n},{ADDRESS[n]},\n" for n in BIAS), encoding="utf-8")
    out = tmp_path / "output" / "bia" / MONTH
    out.mkdir(parents=True)
    records = [{"bia_name": n, "month": MONTH, "service_requests": 1, "same_month_prior_year": None,
                "change_vs_same_month_prior_year": None} for n in BIAS]
    (out / "bia_metrics.json").write_text(json.dumps(records), encoding="utf-8")
    for name in BIAS:
        (out / f"{send.slugify(name)}.pdf").write_bytes(b"%PDF-1.7\n" + name.encode() + b"\n%%EOF\n")
    return raw, out


def env_for(port: int) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_FROM": "cx311@toronto.example"}


def states(out: Path) -> list[tuple[str, str]]:
    return [(e["bia"], e["state"]) for e in send.read_send_log(out / send.SEND_LOG)]


def test_a_server_that_drops_mid_batch_fails_the_rest_and_the_rerun_sends_only_them(reports, server) -> None:
    raw, out = reports
    handler, port = server
    handler.drop_after = 2  # accepts Baby Point Gates and Bloor Annex, then drops every connection
    first = send.send_reports(out, raw, send=True, env=env_for(port))
    assert first.sent == BIAS[:2] and sorted(first.failed) == BIAS[2:]
    # the drop came at MAIL FROM: reconnected once, dropped again; no body went out, so no
    # "sending" in the log for the two that failed
    assert all(e.startswith("SMTPServerDisconnected") for e in first.failed.values())
    assert not first.ok and first.unconfirmed == {}
    assert states(out) == [(BIAS[0], "sending"), (BIAS[0], "sent"), (BIAS[1], "sending"), (BIAS[1], "sent")]
    handler.drop_after = None  # the server is back
    rerun = send.send_reports(out, raw, send=True, env=env_for(port))
    assert rerun.ok and rerun.sent == BIAS[2:] and rerun.already_sent == BIAS[:2]
    assert handler.received() == Counter(ADDRESS.values())  # each BIA once, all four
    assert send.send_reports(out, raw, send=True, env=env_for(port)).sent == []


def test_a_lost_answer_leaves_that_message_unconfirmed_never_sent_twice(reports, server) -> None:
    raw, out = reports
    handler, port = server
    # Bloor Annex (2nd) is accepted but its answer is lost with the connection; the server
    # then drops everything: Kensington Market and Little Italy fail
    handler.lose_reply_of, handler.drop_after = 2, 2
    first = send.send_reports(out, raw, send=True, env=env_for(port))
    assert first.sent == [BIAS[0]] and list(first.unconfirmed) == [BIAS[1]] and sorted(first.failed) == BIAS[2:]
    assert not first.ok
    assert any(f"UNCONFIRMED: {BIAS[1]}: the connection broke after the server had the whole message" in line
               for line in first.lines())
    assert states(out)[2:] == [(BIAS[1], "sending"), (BIAS[1], "unconfirmed")]
    handler.lose_reply_of = handler.drop_after = None
    rerun = send.send_reports(out, raw, send=True, env=env_for(port))
    # Bloor Annex is not sent again but named; the two that failed are sent
    assert rerun.sent == BIAS[2:] and list(rerun.in_doubt) == [BIAS[1]] and rerun.ok
    assert any(line.startswith(f"  NOT SENT AGAIN: {BIAS[1]}: ") and f"--force --bia '{BIAS[1]}'" in line
               for line in rerun.lines())
    assert handler.received() == Counter(ADDRESS.values())  # each once: Bloor Annex's one copy included
    # the analyst asked: it did not arrive; --force --bia sends it (and only it) again
    forced = send.send_reports(out, raw, send=True, force=True, only=[BIAS[1]], env=env_for(port))
    assert forced.sent == [BIAS[1]]
    assert handler.received()[ADDRESS[BIAS[1]]] == 2
    assert send.log_states(send.read_send_log(out / send.SEND_LOG), MONTH)[BIAS[1]].in_doubt is None


def _bia_send(raw: Path, port: int) -> subprocess.Popen:
    output = raw.parent / "output"
    return subprocess.Popen([sys.executable, "-m", "pipeline", "bia-send", "--month", MONTH, "--raw", str(raw),
                             "--output", str(output), "--send"], cwd=PROJECT, env={**os.environ, **env_for(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_when_held(proc: subprocess.Popen, handler: Flaky) -> None:
    def held() -> bool:
        assert proc.poll() is None, f"bia-send ended (exit {proc.returncode}) first: {proc.stderr.read()}"
        return handler.holding.is_set()

    wait_until(held, 60, "the server to hold bia-send's message")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    handler.release.set()  # the server answers a client that is gone


def test_bia_send_killed_between_two_messages_sends_no_duplicate(reports, server) -> None:
    raw, out = reports
    handler, port = server
    handler.hold_mail_of = 2  # Baby Point Gates accepted (and logged); Bloor Annex held at MAIL FROM
    _kill_when_held(_bia_send(raw, port), handler)
    assert states(out) == [(BIAS[0], "sending"), (BIAS[0], "sent")]
    handler.hold_mail_of = None
    rerun = send.send_reports(out, raw, send=True, env=env_for(port))
    assert rerun.ok and rerun.sent == BIAS[1:] and rerun.already_sent == [BIAS[0]]
    assert handler.received() == Counter(ADDRESS.values())


def test_bia_send_killed_while_the_server_answers_sends_no_duplicate(reports, server) -> None:
    raw, out = reports
    handler, port = server
    # Bloor Annex's whole message is at the server (accepted) when the run is killed, before
    # the answer: the run could not log it as sent
    handler.hold_reply_of = 2
    _kill_when_held(_bia_send(raw, port), handler)
    assert states(out) == [(BIAS[0], "sending"), (BIAS[0], "sent"), (BIAS[1], "sending")]
    handler.hold_reply_of = None
    rerun = send.send_reports(out, raw, send=True, env=env_for(port))
    assert rerun.sent == BIAS[2:] and list(rerun.in_doubt) == [BIAS[1]] and rerun.already_sent == [BIAS[0]]
    assert handler.received() == Counter(ADDRESS.values())  # Bloor Annex: its one copy, from the killed run


def test_a_contact_added_after_the_send_gets_the_report_and_no_one_else_again(reports, server) -> None:
    raw, out = reports
    handler, port = server
    assert send.send_reports(out, raw, send=True, env=env_for(port)).sent == BIAS
    # Kensington Market gains a second recipient; Little Italy's changes address
    contacts = raw / "reference" / "bia_contacts.csv"
    contacts.write_text(contacts.read_text(encoding="utf-8").replace(
        f"Little Italy BIA,{ADDRESS[BIAS[3]]},", "Little Italy BIA,new@li.example,")
        + "Kensington Market BIA,second@km.example,Sam\n", encoding="utf-8")
    rerun = send.send_reports(out, raw, send=True, env=env_for(port))
    assert rerun.added == {BIAS[2]: ["second@km.example"], BIAS[3]: ["new@li.example"]}
    assert rerun.recipients_changed == {BIAS[2]: (["second@km.example"], []),
                                        BIAS[3]: (["new@li.example"], [ADDRESS[BIAS[3]]])}
    lines = rerun.lines()
    assert (f"  {BIAS[3]}: bia_contacts.csv changed its recipients since the outbox was written (added "
            f"new@li.example; removed {ADDRESS[BIAS[3]]})") in lines
    assert f"  {BIAS[2]}: sent only to the recipient(s) added to bia_contacts.csv since its report went out: " \
           "second@km.example" in lines
    # the outbox holds the new recipients; each address received the report once
    assert b"second@km.example" in (out / "outbox" / "kensington-market-bia.eml").read_bytes()
    assert handler.received() == Counter([*ADDRESS.values(), "second@km.example", "new@li.example"])
    assert send.send_reports(out, raw, send=True, env=env_for(port)).sent == []  # nothing left to send
