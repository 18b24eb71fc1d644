"""The staff report's front matter: ``<raw>/narrative/<year>/report.yaml``.

Toronto's reports to committee share one form: a header block (Date, To, From, Wards), then
SUMMARY, RECOMMENDATIONS, FINANCIAL IMPACT, DECISION HISTORY, COMMENTS, CONTACT, SIGNATURE and
ATTACHMENTS. The annual report is rendered in that form; the fields that are not figures come
from ``report.yaml`` beside the narrative's Markdown files::

    date: 2025-05-01                      # YYYY-MM-DD
    to: Service Excellence Committee
    from: Executive Director, Customer Experience
    wards: All
    purpose: This report responds to …    # the Summary's first sentence; placeholders allowed
    recommendations:                      # the numbered list, one sentence each
      - The Service Excellence Committee receive this report for information.
    financial_impact: |                   # Markdown; figures as placeholders, as in the .md files
      There is no financial impact resulting from the adoption of the recommendation.
    cfo_review: The Chief Financial Officer and Treasurer has reviewed this report …
    decision_history:                     # each item: meeting (optional), text and link
      - meeting: September 30, October 1 and 2, 2020    # "At its meeting on …, <text>"
        text: City Council adopted MM24.11 …
        link: https://secure.toronto.ca/council/agenda-item.do?item=2020.MM24.11
    contact:                              # one contact, or a list of them
      - name: …
        title: …
        phone: 416-…
        email: …@toronto.ca
    signature:
      name: …
      title: Executive Director, Customer Experience

Public interface::

    FIELDS                                         # key → what it holds (the schema)
    FIELD_NAMES                                    # key → where the document shows it
    read_front_matter(narrative_dir) -> (values, missing, path)
    render_front_matter(values, financial_impact_html) -> dict   # template-ready
    default_front_matter() -> dict
    forget_defaults()                    # read the shipped defaults again (the preview)

Every key is optional in the analyst's file: a key that is absent (or empty) takes the shipped
default (``report_templates/narrative/report.yaml``, clearly marked as demo) and makes the
report a draft. An unknown key, a repeated key or a value of the wrong type stops the run with
``FrontMatterError`` naming ``file:line`` (PyYAML's node marks).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from ..errors import CxError
from ..paths import TEMPLATES_DIR

FILE_NAME = "report.yaml"
DEFAULT_PATH = TEMPLATES_DIR / "narrative" / FILE_NAME

# key → what it holds (the messages and the README quote these)
FIELDS: dict[str, str] = {
    "date": "the report's date, written YYYY-MM-DD",
    "to": "the committee the report goes to, as text",
    "from": "the author's title, as text",
    "wards": "the wards the report concerns, as text (e.g. All)",
    "purpose": "the Summary's purpose sentence, as text",
    "recommendations": "a list of sentences (the numbered recommendations)",
    "financial_impact": "Markdown text",
    "cfo_review": "the Chief Financial Officer's review statement, as text",
    "decision_history": "a list of items, each with text, link and meeting",
    "contact": "a contact (name, title, phone, email) or a list of them",
    "signature": "a mapping with name and title",
}
# key → where the document shows it: a draft's first page names the parts that use default text
FIELD_NAMES: dict[str, str] = {
    "date": "Date",
    "to": "To",
    "from": "From",
    "wards": "Wards",
    "purpose": "the Summary's purpose",
    "recommendations": "Recommendations",
    "financial_impact": "Financial Impact",
    "cfo_review": "the Chief Financial Officer's review",
    "decision_history": "Decision History",
    "contact": "Contact",
    "signature": "Signature",
}
ITEM_KEYS = ("meeting", "text", "link")
CONTACT_KEYS = ("name", "title", "phone", "email")
SIGNATURE_KEYS = ("name", "title")
_LINK = re.compile(r"(?i)^https?://[^\s\"'<>`]+$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+$")
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class FrontMatterError(CxError):
    """``report.yaml`` is not valid; the message names the file and line (``file:line``)."""


def _display(path: Path) -> str:
    """A short, stable name for messages: raw/narrative/2024/report.yaml."""
    return "/".join(Path(path).parts[-4:])


class _Reader:
    """Check one YAML document's nodes against ``FIELDS`` and build plain values."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node, message: str) -> FrontMatterError:
        return FrontMatterError(f"{_display(self.path)}:{node.start_mark.line + 1}: {message}")

    # ------------------------------------------------------------------ scalars

    def text(self, node: yaml.Node, key: str, *, allow_int: bool = False) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _NULL:
                return None
            if node.tag == _STR:
                return node.value.strip() or None
            if allow_int and node.tag == _INT:
                return node.value
        raise self.fail(node, f"'{key}' must be text, not {_kind(node)}")

    def date(self, node: yaml.Node) -> dt.date | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _NULL:
                return None
            if node.tag in (_TIMESTAMP, _STR):
                try:
                    return dt.date.fromisoformat(node.value.strip()[:10]) if node.value.strip() else None
                except ValueError:
                    pass
        raise self.fail(node, f"'date' must be a date written YYYY-MM-DD (e.g. 2025-05-01), not {_kind(node)}")

    # ------------------------------------------------------------------ containers

    def mapping(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"'{key}' must be a mapping with {_join(allowed)}, not {_kind(node)}")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if name not in allowed:
                raise self.fail(key_node, f"unknown key {name!r} in '{key}' (the keys are {_join(allowed)})")
            if name in out:
                raise self.fail(key_node, f"'{key}' gives {name!r} twice")
            out[name] = value_node
        return out

    def sequence(self, node: yaml.Node, key: str, what: str) -> list[yaml.Node] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return None
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"'{key}' must be {what}, not {_kind(node)}")
        return list(node.value) or None

    def placeholder(self, value: str) -> bool:
        """A value in square brackets ("[E-mail]") marks a blank of the shipped defaults: allowed
        there only, so an analyst's file never passes one for an address."""
        return self.path == DEFAULT_PATH and value.startswith("[") and value.endswith("]")

    # ------------------------------------------------------------------ fields

    def field(self, key: str, node: yaml.Node) -> Any:
        if key == "date":
            return self.date(node)
        if key in ("to", "from", "wards", "purpose", "financial_impact", "cfo_review"):
            return self.text(node, key)
        if key == "recommendations":
            items = self.sequence(node, key, FIELDS[key])
            out = [self.text(item, "recommendations item") for item in items or []]
            return [t for t in out if t] or None
        if key == "decision_history":
            items = self.sequence(node, key, FIELDS[key])
            return [self.history_item(item) for item in items or []] or None
        if key == "contact":
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
                return None
            items = [node] if isinstance(node, yaml.MappingNode) else self.sequence(node, key, FIELDS[key])
            return [self.contact(item) for item in items or []] or None
        if key == "signature":
            if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
                return None
            fields = self.mapping(node, key, SIGNATURE_KEYS)
            out = {k: self.text(fields[k], f"signature {k}") if k in fields else None for k in SIGNATURE_KEYS}
            return out if any(out.values()) else None
        raise AssertionError(key)

    def history_item(self, node: yaml.Node) -> dict[str, str | None]:
        fields = self.mapping(node, "decision_history item", ITEM_KEYS)
        text = self.text(fields["text"], "text") if "text" in fields else None
        if not text:
            raise self.fail(node, "a 'decision_history' item needs its text")
        link = self.text(fields["link"], "link") if "link" in fields else None
        if link is not None and not _LINK.match(link):
            raise self.fail(fields["link"], f"'link' must be an http:// or https:// address, not {link!r}")
        # the meeting's dates, as the City writes them: "At its meeting on <meeting>, <text>"
        meeting = self.text(fields["meeting"], "meeting") if "meeting" in fields else None
        return {"meeting": meeting, "text": text, "link": link}

    def contact(self, node: yaml.Node) -> dict[str, str | None]:
        fields = self.mapping(node, "contact", CONTACT_KEYS)
        out = {k: self.text(fields[k], f"contact {k}", allow_int=(k == "phone")) if k in fields else None
               for k in CONTACT_KEYS}
        if out["email"] is not None and not _EMAIL.match(out["email"]) and not self.placeholder(out["email"]):
            raise self.fail(fields["email"], f"'email' must be an e-mail address, not {out['email']!r}")
        if not out["name"]:
            raise self.fail(node, "a 'contact' needs a name")
        return out

    def document(self, text: str) -> dict[str, Any]:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = error.problem or error.context or "not valid YAML"
            raise FrontMatterError(f"{_display(self.path)}{line}: not valid YAML: {problem}") from None
        except yaml.YAMLError as error:
            raise FrontMatterError(f"{_display(self.path)}: not valid YAML: {error}") from None
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            raise self.fail(root, f"the file must be a mapping of keys ({_join(tuple(FIELDS))}), not {_kind(root)}")
        values: dict[str, Any] = {}
        seen: set[str] = set()
        for key_node, value_node in root.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in FIELDS:
                raise self.fail(key_node, f"unknown key {key!r} (the keys are {_join(tuple(FIELDS))})")
            if key in seen:
                raise self.fail(key_node, f"{key!r} is given twice")
            seen.add(key)
            values[key] = self.field(key, value_node)
        return values


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {_NULL: "empty", _STR: f"the text {node.value!r}", _INT: f"the number {node.value}",
            _TIMESTAMP: f"the date {node.value}"}.get(node.tag, f"the value {node.value!r}")


def _join(keys: tuple[str, ...]) -> str:
    return ", ".join(keys[:-1]) + " and " + keys[-1] if len(keys) > 1 else keys[0]


def parse_front_matter(text: str, path: Path) -> dict[str, Any]:
    """The fields ``text`` gives (absent or empty ones left out); FrontMatterError if invalid."""
    values = _Reader(path).document(text)
    return {k: v for k, v in values.items() if v is not None}


@functools.cache
def _default_values() -> tuple[tuple[str, Any], ...]:
    values = parse_front_matter(DEFAULT_PATH.read_text(encoding="utf-8"), DEFAULT_PATH)
    return tuple(values.items())


def forget_defaults() -> None:
    """Read the shipped default front matter again at its next use (the preview, after a save)."""
    _default_values.cache_clear()


def default_front_matter() -> dict[str, Any]:
    """The shipped (demo) front matter: every field, some of them empty (None)."""
    import copy

    values = {key: None for key in FIELDS}
    values.update(copy.deepcopy(dict(_default_values())))
    return values


def read_front_matter(narrative_dir: Path | None) -> tuple[dict[str, Any], list[str], Path]:
    """(values, missing keys, path): the analyst's fields over the shipped defaults.

    ``missing`` lists, in schema order, the keys that fall back to the default (all of them
    when the file does not exist). ``path`` is where the analyst's file is (or would be).
    """
    path = (Path(narrative_dir) if narrative_dir is not None else Path("raw/narrative/<year>")) / FILE_NAME
    given: dict[str, Any] = {}
    if narrative_dir is not None and path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise FrontMatterError(f"{_display(path)}: not UTF-8 text ({error.reason})") from error
        given = parse_front_matter(text, path)
    values = default_front_matter()
    values.update(given)
    missing = [key for key in FIELDS if key not in given]
    return values, missing, path


def render_front_matter(values: dict[str, Any], financial_impact_html: Markup) -> dict[str, Any]:
    """The fields as the templates show them: the date as text ("May 1, 2025"), lists never
    None, and ``financial_impact`` as the safe HTML given (``pipeline.report.narrative``
    renders it like the Markdown files, placeholders filled in)."""
    from .formatting import MONTHS

    date = values.get("date")
    shown = dict(values)
    shown["date_text"] = f"{MONTHS[date.month - 1]} {date.day}, {date.year}" if date else None
    shown["financial_impact_html"] = financial_impact_html
    # a contact's e-mail is a link only when it is an address (the defaults' "[E-mail]" is a blank)
    shown["contact"] = [{**c, "email_is_address": bool(c.get("email") and _EMAIL.match(c["email"]))}
                        for c in values.get("contact") or []]
    shown["decision_history"] = values.get("decision_history") or []
    shown["recommendations"] = values.get("recommendations") or []
    return shown


# --------------------------------------------------------------------------- the staff report's form


def annual_sections(year: int, left_out: frozenset[str] = frozenset()
                    ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The annual report's sections in the staff report's order, as (id, heading, subsections):
    the table of contents, and the order of ``annual_report.html``. ``left_out``: the ids of
    Comments subsections with nothing to show (what the extracts do not hold), left out."""
    comments = [
        ("inquiries-and-requests", "General Inquiries and Service Requests"),
        ("general-inquiries", "General Inquiries"),
        ("service-requests", "Service Requests"),
        ("phone", "Phone Channel Service Levels"),
        ("events", f"Events of {year}"),
        ("partnerships", "Partnerships and Enhancements"),
        ("ongoing-improvements", "Ongoing Improvements"),
        ("wards", "Service Requests by Ward"),
        ("data-notes", "Data Notes and Sources"),
    ]
    comments = [(sid, heading) for sid, heading in comments if sid not in left_out]
    return [
        ("summary", "Summary", []),
        ("recommendations", "Recommendations", []),
        ("financial-impact", "Financial Impact", []),
        ("decision-history", "Decision History", []),
        ("comments", "Comments", comments),
        ("contact", "Contact", []),
        ("signature", "Signature", []),
        ("attachments", "Attachments", []),
    ]


def staff_report(text: dict[str, Any], kind: str, output: str, year: int,
                 documents: dict[str, tuple[str, str, str, str]]) -> dict[str, Any]:
    """The template context of the form: the front matter, the draft flag, and the
    attachments (each appendix's name, file name and link: ``.pdf`` from the PDF, ``.html``
    from the web page, a sibling file either way)."""
    ext = ".pdf" if output == "pdf" else ".html"
    attachments = [
        {"kind": key, "name": name.format(year=year), "file": stem.format(year=year) + ext}
        for key, (stem, _heading, name, _template) in documents.items() if name
    ]
    return {
        "front": text["front"],
        "draft": bool(text["draft"]),
        # "Partnerships and Enhancements, Contact and Signature still use default text."
        "draft_sentence": text.get("draft_sentence") or "",
        "attachments": attachments,
        "attachment": next((a for a in attachments if a["kind"] == kind), None),
        "annual_file": documents["annual"][0].format(year=year) + ext,
    }
