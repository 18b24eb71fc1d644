"""E-mail each BIA its monthly report (the PDF from ``pipeline/bia/batch.py``).

Public interface::

    send_reports(out_dir, raw_dir, *, send=False, force=False, env=os.environ) -> SendSummary

``out_dir`` is ``<output>/bia/<YYYY-MM>/`` as written by the BIA batch (it reads
``bia_metrics.json`` and ``<bia-slug>.pdf``). Recipients come from
``<raw>/reference/bia_contacts.csv`` (``bia_name,email,contact_name``; several rows for one BIA
→ several recipients; names match as in the warehouse: case, spacing and the " BIA" suffix
ignored). A BIA without a contact is listed, never guessed; without the file, the summary names
its path and columns.

Default: one ``.eml`` per BIA is written to ``out_dir/outbox/`` and nothing is sent. The
``.eml`` files are deterministic: the Message-ID is ``<bia-report.<YYYY-MM>.<bia-slug>@cx311>``
and the outbox copy's Date is 09:00 local time (the city profile's time zone) on the first day
of the following month, so the same report gives the same bytes on every run; a message sent
carries the time it was sent (below). Headers are not folded below 998 characters, so the
Subject stays on its line.

``From`` is ``SMTP_FROM`` (default ``SMTP_USER`` when that is an address, else the city
profile's ``mail.from``, the service's public mailbox) and ``Reply-To`` is ``SMTP_REPLY_TO``
(default: the profile's ``mail.reply_to``, else the From address): the body asks the reader to
reply, so a reply must reach a mailbox someone reads. The body names the profile's service,
division and city.

With ``send=True`` and SMTP settings in the environment (``SMTP_HOST``, ``SMTP_PORT`` (default
587 with STARTTLS, else 25), ``SMTP_USER``, ``SMTP_PASSWORD``, ``SMTP_STARTTLS`` = 1/true/yes)
the messages are sent with smtplib; the Date header is then set to the time of sending.

**Never twice.** ``out_dir/send_log.jsonl`` (one JSON object per line, each written and synced
at once) records every message's trip: ``sending`` just before its body goes to the server,
then ``sent`` (the server accepted it: the recipients it accepted and refused), ``failed`` (the
server refused it, or the connection broke before the server had the whole message) or
``unconfirmed`` (the connection broke after the server had all of it, before it answered: it
may have been accepted). A BIA's report for the month goes to a recipient once: a rerun sends
only what was not sent (a recipient added to ``bia_contacts.csv`` since gets it alone), and a
BIA whose last trip is ``sending`` (the run was killed) or ``unconfirmed`` is not sent again
but named, until ``force=True`` sends it again. A dropped connection is opened again, once,
only when no body had gone out on it. An entry without a state (an older log) is ``sent``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..contract import is_demo
from ..errors import CxError
from ..files import atomic_write, env_flag
from ..profile import Profile, load_profile
from ..report.formatting import fmt_month, fmt_year_over_year
from .batch import parse_month, shift_month, slugify, typed_name_key

CONTACTS_FILE = Path("reference") / "bia_contacts.csv"  # in the raw folder
CONTACT_COLUMNS = ("bia_name", "email", "contact_name")


SEND_LOG = "send_log.jsonl"  # every message sent: a BIA's report for a month goes out once


class SendError(CxError):
    """The sending step cannot run (no reports, bad contacts file, SEND without SMTP settings)."""

    exit_code = 2  # a settings or contacts problem: fix it and run again


@dataclass
class SendSummary:
    month: str
    outbox: Path
    written: list[Path] = field(default_factory=list)       # .eml files
    sent: list[str] = field(default_factory=list)            # BIA names sent in this run
    already_sent: list[str] = field(default_factory=list)    # skipped: in the send log
    no_contact: list[str] = field(default_factory=list)
    no_report: list[str] = field(default_factory=list)
    unknown_contacts: list[str] = field(default_factory=list)  # contacts naming no seed BIA
    failed: dict[str, str] = field(default_factory=dict)
    unconfirmed: dict[str, str] = field(default_factory=dict)  # this run: the server had it all, no answer
    in_doubt: dict[str, str] = field(default_factory=dict)     # skipped: an earlier trip's end is unknown (its time)
    added: dict[str, list[str]] = field(default_factory=dict)  # sent to recipients added since it was sent
    recipients_changed: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # (added, removed)
    sending: bool = False
    contacts_missing: Path | None = None  # the contacts file, when it does not exist

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unconfirmed

    @property
    def skipped(self) -> int:
        """BIAs with no e-mail sent on purpose: sent earlier, no contact, no report, or in doubt."""
        return len(self.already_sent) + len(self.no_contact) + len(self.no_report) + len(self.in_doubt)

    def lines(self) -> list[str]:
        out = [f"BIA report e-mails for {self.month}: sent {len(self.sent)}, written {len(self.written)}, "
               f"skipped {self.skipped}, failed {len(self.failed)} (outbox: {self.outbox})"]
        if self.sending:
            out.append(f"  already sent earlier (see {SEND_LOG}): {len(self.already_sent)}")
        else:
            out.append("  nothing sent (set SMTP_HOST etc. and SEND=1 / --send to send)")
        if self.contacts_missing is not None:
            out.append(f"  no contacts file: {self.contacts_missing} does not exist, so no e-mail was "
                       f"made for the {len(self.no_contact)} BIA(s). Create it as CSV with the columns "
                       f"{', '.join(CONTACT_COLUMNS)} (contact_name may be blank; one row per recipient, "
                       "a BIA may have several) and run again.")
        elif self.no_contact:
            out.append(f"  {len(self.no_contact)} BIA(s) without a contact in bia_contacts.csv "
                       "(no e-mail made):")
            out += [f"    {n}" for n in self.no_contact]
        if self.no_report:
            out.append(f"  {len(self.no_report)} BIA(s) without a rendered report (no e-mail made):")
            out += [f"    {n}" for n in self.no_report]
        if self.unknown_contacts:
            out.append("  contacts naming no BIA in the seed (ignored): "
                       + ", ".join(repr(n) for n in self.unknown_contacts))
        for name, (added, removed) in sorted(self.recipients_changed.items()):
            out.append(f"  {name}: bia_contacts.csv changed its recipients since the outbox was written ("
                       + "; ".join(part for part in (f"added {', '.join(added)}" if added else "",
                                                     f"removed {', '.join(removed)}" if removed else "") if part)
                       + ")")
        for name, added in sorted(self.added.items()):
            out.append(f"  {name}: sent only to the recipient(s) added to bia_contacts.csv since its report went "
                       f"out: {', '.join(added)}")
        for name, when in sorted(self.in_doubt.items()):
            out.append(f"  NOT SENT AGAIN: {name}: the run sending it at {when} ended before the server answered, "
                       "with the whole message at the server: it may have arrived. Ask the recipients; to send it "
                       f"again, run with --force --bia '{name}'.")
        for name, error in sorted(self.unconfirmed.items()):
            out.append(f"  UNCONFIRMED: {name}: the connection broke after the server had the whole message, "
                       f"before it answered ({error}): it may have arrived, so it is not sent again by itself. Ask "
                       f"the recipients; to send it again, run with --force --bia '{name}'.")
        for name, error in sorted(self.failed.items()):
            out.append(f"  FAILED: {name}: {error}")
        return out


# --------------------------------------------------------------------------- contacts

_CONTACT_NAMES: dict[str, str] = {}  # typed_name_key → the name as written in bia_contacts.csv


def read_contacts(raw_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """typed_name_key(bia_name) → [(contact_name, email), …] from <raw>/reference/bia_contacts.csv."""
    path = Path(raw_dir) / CONTACTS_FILE
    if not path.exists():
        return {}
    contacts: dict[str, list[tuple[str, str]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"bia_name", "email"} - set(reader.fieldnames or [])
        if missing:
            raise SendError(f"{path}: missing column(s) {', '.join(sorted(missing))} "
                            f"(expected {','.join(CONTACT_COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            name, email = (row.get("bia_name") or "").strip(), (row.get("email") or "").strip()
            if not name and not email:
                continue
            if not name or "@" not in email or any(c in email for c in " ,;<>"):
                raise SendError(f"{path}, line {line}: needs a BIA name and one e-mail address")
            entry = ((row.get("contact_name") or "").strip(), email)
            _CONTACT_NAMES.setdefault(typed_name_key(name), name)
            bucket = contacts.setdefault(typed_name_key(name), [])
            if entry not in bucket:
                bucket.append(entry)
    return contacts


# --------------------------------------------------------------------------- messages


def message_id(month: str, slug: str) -> str:
    return f"<bia-report.{month}.{slug}@cx311>"


def fixed_date(month: str, timezone: str) -> dt.datetime:
    """09:00 local time (``timezone``) on the first day of the month after the report month."""
    nxt = shift_month(parse_month(month), 1)
    return dt.datetime(nxt.year, nxt.month, 1, 9, 0, tzinfo=ZoneInfo(timezone))


def body_text(rec: dict[str, Any], contact_names: list[str], demo: bool, profile: Profile | None = None) -> str:
    """The message's text, signed with the city profile's names (the shipped one by default)."""
    profile = profile or load_profile()
    month = fmt_month(rec["month"])
    greeting = "Hello " + " and ".join(n for n in contact_names if n) + "," if any(contact_names) \
        else "Hello,"
    n = rec["service_requests"] or 0
    if n:
        figure = f"In {month}, 311 received {n:,} service request{'s' if n != 1 else ''} in the {rec['bia_name']} area"
        change = fmt_year_over_year(n, rec.get("same_month_prior_year"),
                                    rec.get("change_vs_same_month_prior_year"), "a year earlier")
        figure += f" ({change})." if change else "."
    else:
        figure = f"311 received no service requests in the {rec['bia_name']} area in {month}."
    lines = [
        greeting,
        "",
        f"Attached is {profile.service}'s service request report for the {rec['bia_name']} for {month}.",
        "",
        figure,
        "The report also shows the year to date, the most frequent request types, where they "
        "were, what is still open, time to close, a 13-month trend and your 311 contact. The PDF "
        "is tagged for screen readers.",
        "",
    ]
    if demo:
        lines += [f"NOTE: this report was made from synthetic demo data. It is not {profile.city} data.", ""]
    lines += [
        "If you have questions about the report, reply to this e-mail.",
        "",
        f"{profile.service}, {profile.division}",
        profile.city,
    ]
    return "\n".join(lines) + "\n"


def build_message(rec: dict[str, Any], slug: str, pdf: bytes, recipients: list[tuple[str, str]],
                  sender: str, demo: bool, profile: Profile, reply_to: str | None = None) -> EmailMessage:
    """The e-mail of one BIA's report. ValueError when a header value would carry a line break
    (CR/LF: header injection) — the contact is refused, never cleaned up silently."""
    for name, email in recipients:
        if any(c in f"{name}{email}" for c in "\r\n"):
            raise ValueError(f"the contact {email.strip()!r} in bia_contacts.csv has a line break in its "
                             "name or address: refused (fix the file and run again)")
    month = rec["month"]
    msg = EmailMessage()
    subject = f"311 service request report for {rec['bia_name']}, {fmt_month(month)}"
    if demo:
        subject += " (demo data)"
    msg["Subject"] = subject
    msg["From"] = sender
    msg["Reply-To"] = reply_to or sender  # the body asks the reader to reply
    msg["To"] = ", ".join(formataddr((name, email)) for name, email in recipients)
    msg["Date"] = format_datetime(fixed_date(month, profile.timezone))
    msg["Message-ID"] = message_id(month, slug)
    msg.set_content(body_text(rec, [n for n, _ in recipients], demo, profile))
    msg.add_attachment(pdf, maintype="application", subtype="pdf",
                       filename=f"311-report-{slug}-{month}.pdf")
    # a fixed MIME boundary (the default is random) keeps the .eml byte-identical on re-runs;
    # '_' is outside base64's alphabet, so the boundary cannot occur in the attachment
    token = hashlib.sha256(f"{month}/{slug}".encode() + pdf).hexdigest()[:24]
    msg.set_boundary(f"=_cx311_{token}")
    # Headers on one line up to RFC 5322's limit of 998 characters: at the default 78, Python
    # moves a Subject that fits a continuation line whole onto it, leaving "Subject:" alone on
    # the first line (a folded, empty-looking Subject in some mail clients). The body and the
    # attachment are already encoded (lines of 76): only the headers' folding changes.
    msg.policy = msg.policy.clone(max_line_length=998)
    return msg


# --------------------------------------------------------------------------- send log


@dataclass
class LogState:
    """What the send log says of one BIA's report for the month."""

    recipients: set[str] = field(default_factory=set)  # accepted or refused: done, unless --force
    in_doubt: str | None = None  # the time of a trip whose end is unknown (sending, unconfirmed)


def log_states(entries: list[dict[str, Any]], month: str) -> dict[str, LogState]:
    """{BIA: LogState} from the send log's entries (in the order written) for ``month``."""
    states: dict[str, LogState] = {}
    for entry in entries:
        if entry.get("month") != month:
            continue
        state = states.setdefault(entry["bia"], LogState())
        kind = entry.get("state", "sent")
        if kind in ("sending", "unconfirmed"):
            state.in_doubt = entry.get("at") or entry.get("sent_at") or "?"
        elif kind == "sent":
            state.recipients |= {r.lower() for r in [*entry.get("recipients", []), *entry.get("refused", [])]}
            state.in_doubt = None
        elif kind == "failed":
            state.in_doubt = None
    return states


def read_send_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            entries.append(json.loads(line))
    return entries


def append_send_log(path: Path, entry: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


# --------------------------------------------------------------------------- SMTP


@dataclass
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str
    reply_to: str


def smtp_settings(env: Mapping[str, str], profile: Profile) -> SmtpSettings | None:
    host = (env.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    starttls = env_flag(env.get("SMTP_STARTTLS"))
    port = int(env.get("SMTP_PORT") or (587 if starttls else 25))
    user = env.get("SMTP_USER") or None
    sender, reply_to = _default_addresses(env, profile)
    return SmtpSettings(host, port, user, env.get("SMTP_PASSWORD") or None, starttls, sender, reply_to)


def _default_addresses(env: Mapping[str, str], profile: Profile) -> tuple[str, str]:
    """(From, Reply-To). From: SMTP_FROM, else SMTP_USER when it is an e-mail address, else
    the profile's mail.from; Reply-To: SMTP_REPLY_TO, else the profile's mail.reply_to, else From."""
    user = (env.get("SMTP_USER") or "").strip()
    sender = (env.get("SMTP_FROM") or "").strip() or (user if "@" in user else "") or str(profile.mail["from"])
    reply_to = (env.get("SMTP_REPLY_TO") or "").strip() or profile.mail.get("reply_to") or sender
    return sender, reply_to


@dataclass
class _Trip:
    """One message's trip to the server, as the send log records it."""

    log_path: Path
    entry: dict[str, Any]  # bia, month, recipients, message_id, at
    body_started: bool = False  # "sending" is in the log: the body is going out
    body_sent: bool = False     # the server has the whole message (and may accept it)

    def record(self, state: str, **more: Any) -> None:
        append_send_log(self.log_path, {**self.entry, "state": state, **more})


class _Smtp(smtplib.SMTP):
    """smtplib's client, telling ``trip`` when a message's body (the one write that ends with
    the end-of-data line) goes out: the log says "sending" before it, so a run killed from
    then on leaves the message in doubt, never sent twice."""

    trip: _Trip | None = None

    def send(self, s: bytes | str) -> None:
        body = self.trip is not None and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n")
        if body:
            self.trip.record("sending")  # type: ignore[union-attr]
            self.trip.body_started = True  # type: ignore[union-attr]
        super().send(s)
        if body:
            self.trip.body_sent = True  # type: ignore[union-attr]


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    conn = _Smtp(s.host, s.port, timeout=30)
    if s.starttls:
        conn.starttls()
    if s.user and s.password:
        conn.login(s.user, s.password)
    return conn


# --------------------------------------------------------------------------- main


Message = tuple[dict[str, Any], str, EmailMessage, str]  # record, slug, message, PDF sha256


def _read_records(out_dir: Path, only: list[str] | None) -> list[dict[str, Any]]:
    """The month's BIA records from bia_metrics.json, only those named in ``only`` if given."""
    metrics_path = out_dir / "bia_metrics.json"
    if not metrics_path.exists():
        raise SendError(f"no BIA reports in {out_dir}: run `make bia MONTH=…` first")
    records = json.loads(metrics_path.read_text(encoding="utf-8"))
    for rec in records:  # a bia_metrics.json written before the field was bia_name
        if "bia_name" not in rec and "name" in rec:
            rec["bia_name"] = rec.pop("name")
    if only:
        wanted = {typed_name_key(n) for n in only}
        records = [r for r in records if typed_name_key(r["bia_name"]) in wanted]
    return records


def _addresses(settings: SmtpSettings | None, env: Mapping[str, str], profile: Profile) -> tuple[str, str]:
    """(From, Reply-To): each one e-mail address, else SendError naming the setting."""
    sender, reply_to = (settings.sender, settings.reply_to) if settings else _default_addresses(env, profile)
    for name, value in (("SMTP_FROM", sender), ("SMTP_REPLY_TO", reply_to)):
        parsed = getaddresses([value])
        if len(parsed) != 1 or "@" not in parsed[0][1] or any(c in value for c in "\r\n"):
            raise SendError(f"{name} {value!r} is not one e-mail address")
    return sender, reply_to


def _write_messages(records: list[dict[str, Any]], contacts: dict[str, list[tuple[str, str]]],
                    out_dir: Path, sender: tuple[str, str], demo: bool, summary: SendSummary,
                    profile: Profile) -> list[Message]:
    """One .eml per BIA with a contact and a report, in the outbox; the others are listed."""
    messages: list[Message] = []
    for rec in records:
        slug = slugify(rec["bia_name"])
        recipients = contacts.get(typed_name_key(rec["bia_name"]))
        if not recipients:
            summary.no_contact.append(rec["bia_name"])
            continue
        pdf_path = out_dir / f"{slug}.pdf"
        if not pdf_path.exists():
            summary.no_report.append(rec["bia_name"])
            continue
        pdf = pdf_path.read_bytes()
        try:
            msg = build_message(rec, slug, pdf, recipients, sender[0], demo, profile, reply_to=sender[1])
        except ValueError as error:  # this BIA's message is refused; the others go on
            summary.failed[rec["bia_name"]] = str(error)
            continue
        eml = summary.outbox / f"{slug}.eml"
        if eml.is_file():  # what bia_contacts.csv changed since the outbox was written
            was = {a for _, a in getaddresses([BytesHeaderParser().parsebytes(eml.read_bytes())["To"] or ""])}
            now = {a for _, a in recipients}
            if was != now:
                summary.recipients_changed[rec["bia_name"]] = (sorted(now - was), sorted(was - now))
        atomic_write(eml, msg.as_bytes())
        summary.written.append(eml)
        messages.append((rec, slug, msg, hashlib.sha256(pdf).hexdigest()))
    return messages


Todo = tuple[Message, list[str]]  # a message and the recipients to send it to now


def _deliver(settings: SmtpSettings, sender: str, todo: list[Todo], log_path: Path,
             resent: set[str], summary: SendSummary, timezone: str) -> None:
    """Send each message (the Date set to now) to its recipients, the trip recorded in the
    send log as it goes (module doc). ``resent``: BIAs sent before (``--force``)."""
    from_addr = getaddresses([sender])[0][1]
    conn: smtplib.SMTP | None = None
    try:
        for (rec, slug, msg, pdf_sha), recipients in todo:
            now = dt.datetime.now(tz=ZoneInfo(timezone)).replace(microsecond=0)
            del msg["Date"]
            msg["Date"] = format_datetime(now)
            name = rec["bia_name"]
            trip = _Trip(log_path, {"bia": name, "month": summary.month, "recipients": recipients,
                                    "message_id": msg["Message-ID"], "at": now.isoformat()})
            try:  # each BIA on its own: a failed connection or send fails this one only
                conn, refused = _send_one(settings, conn, msg, from_addr, trip)
            except (smtplib.SMTPException, OSError) as error:
                conn = None
                said = f"{type(error).__name__}: {error}"
                if trip.body_sent and not isinstance(error, smtplib.SMTPResponseException):
                    trip.record("unconfirmed", error=said)
                    summary.unconfirmed[name] = said
                else:
                    if trip.body_started:
                        trip.record("failed", error=said)
                    summary.failed[name] = said
                continue
            trip.record("sent", recipients=[r for r in recipients if r not in refused], refused=sorted(refused),
                        attachment=f"{slug}.pdf", attachment_sha256=pdf_sha, sent_at=now.isoformat(),
                        forced=name in resent)
            summary.sent.append(name)
    finally:
        _close(conn)


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def _send_one(settings: SmtpSettings, conn: smtplib.SMTP | None, msg: EmailMessage, from_addr: str,
              trip: _Trip) -> tuple[smtplib.SMTP, dict]:
    """Send one message, connecting (again) when there is no live connection, and once more when
    the server had dropped the connection before any of the body went out (a server closes an
    idle connection); never after: the server may have the message. Returns the connection and
    the refused recipients; on an error the connection is closed."""
    for attempt in (1, 2):
        try:
            if conn is None:
                conn = _connect(settings)
            conn.trip = trip  # type: ignore[attr-defined]
            return conn, conn.send_message(msg, from_addr=from_addr, to_addrs=trip.entry["recipients"])
        except smtplib.SMTPServerDisconnected:
            _close(conn)
            conn = None
            if trip.body_started or attempt == 2:
                raise
        except (smtplib.SMTPException, OSError):
            _close(conn)
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def send_reports(out_dir: Path, raw_dir: Path, *, send: bool = False, force: bool = False,
                 env: Mapping[str, str] | None = None, only: list[str] | None = None) -> SendSummary:
    """Write the month's .eml files and, when asked and configured, send them (see module doc)."""
    env = os.environ if env is None else env
    out_dir = Path(out_dir)
    records = _read_records(out_dir, only)
    month = out_dir.name
    profile = load_profile(raw_dir)
    settings = smtp_settings(env, profile)
    if send and settings is None:
        raise SendError("sending was asked for (SEND=1 / --send) but SMTP_HOST is not set")
    sender, reply_to = _addresses(settings, env, profile)
    contacts = read_contacts(raw_dir)
    demo = is_demo(Path(raw_dir))
    outbox = out_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    summary = SendSummary(month=month, outbox=outbox, sending=send)
    if not (Path(raw_dir) / CONTACTS_FILE).exists():
        summary.contacts_missing = Path(raw_dir) / CONTACTS_FILE
    seed_keys = {typed_name_key(r["bia_name"]) for r in records}
    summary.unknown_contacts = sorted(_CONTACT_NAMES.get(k, k) for k in contacts if k not in seed_keys)
    messages = _write_messages(records, contacts, out_dir, (sender, reply_to), demo, summary, profile)
    if not send or settings is None:
        return summary

    log_path = out_dir / SEND_LOG
    states = log_states(read_send_log(log_path), month)
    todo: list[Todo] = []
    for item in messages:
        name, recipients = item[0]["bia_name"], [addr for _, addr in getaddresses([item[2]["To"]])]
        state = states.get(name, LogState())
        if force:
            todo.append((item, recipients))
        elif state.in_doubt is not None:
            summary.in_doubt[name] = state.in_doubt
        elif pending := [r for r in recipients if r.lower() not in state.recipients]:
            todo.append((item, pending))
            if state.recipients:
                summary.added[name] = pending
        else:
            summary.already_sent.append(name)
    if todo:
        resent = {name for name, state in states.items() if state.recipients} if force else set()
        _deliver(settings, sender, todo, log_path, resent, summary, profile.timezone)
    return summary
