"""Mapped extracts: ``raw/mapped/<name>.yaml`` says how another 311 system's export becomes
contract rows (docs/data-contract.md, "Another system's extracts").

Public interface::

    read_mappings(raw_dir, columns, vocabularies) -> list[Mapping]   # every mapping file, checked
                                                # (pipeline/contract.py: mappings(raw_dir))
    Mapping.paths() -> list[Path]             # the files it covers
    MappingError                              # one paragraph naming the file, line and key

A mapping that is wrong in itself (an unknown key, a contract column that does not exist, a
required contract column left unmapped, an invalid timestamp format or time zone, values for a
column that takes none) stops the run before anything loads. A source column the file lacks is
found when the file is read (``pipeline/ingest/staging.py``), with the same kind of message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import CxError

FOLDER = "mapped"  # raw/mapped/
KEYS = ("entity", "files", "columns", "constants", "timestamps", "values")
ENTITY_NAMES = ("interactions", "service_requests", "kb_views")
FILE_EXTS = (".csv", ".csv.gz", ".parquet", ".json")
# the contract columns whose source values are mapped onto the contract's vocabulary
VOCABULARY = ("status", "channel", "interaction_type", "outcome")


class MappingError(CxError):
    """A mapping file is wrong in itself; the message names the file, line and key."""


@dataclass
class Mapping:
    path: Path  # the mapping file
    rel: str  # its path relative to the raw folder
    entity: str
    files: list[str]
    columns: dict[str, str]  # contract column -> source column
    constants: dict[str, str]  # contract column -> one value for every row
    formats: list[str]  # strptime forms (empty: the contract's forms)
    timezone: str | None  # for values without an offset (None: the city profile's)
    values: dict[str, dict[str, str]]  # contract column -> {source value (lower case): contract value}
    lines: dict[str, int] = field(default_factory=dict)  # key path -> line in the file
    digest: str = ""  # SHA-256 of the mapping file: a changed mapping reads its files again

    def paths(self) -> list[Path]:
        """The files this mapping covers (its globs, relative to the mapping's folder), in name order."""
        found: set[Path] = set()
        for pattern in self.files:
            for path in self.path.parent.glob(pattern):
                if path.is_file() and not path.name.startswith(".") and _ext(path.name):
                    found.add(path)
        return sorted(found)

    def fail(self, key: str, message: str) -> MappingError:
        """The error for ``key`` (e.g. 'columns.created_at'), at its line in the file."""
        line = self.lines.get(key) or self.lines.get(key.split(".")[0]) or 1
        return MappingError(f"{self.rel}, line {line}, key '{key}': {message}. Nothing was loaded: fix "
                            "the mapping and run again (docs/bring-your-own-extracts.md).")


def _ext(name: str) -> str | None:
    low = name.lower()
    return next((e for e in sorted(FILE_EXTS, key=len, reverse=True) if low.endswith(e)), None)


def file_format(path: Path) -> str:
    """How a covered file is read: csv (also .csv.gz), parquet or json."""
    ext = _ext(path.name) or ""
    return {"csv.gz": "csv"}.get(ext.lstrip("."), ext.lstrip("."))


def _valid_format(fmt: str) -> bool:
    """A strptime form that reads back what it writes (a date and at least the hour)."""
    if "%" not in fmt:
        return False
    sample = dt.datetime(2024, 7, 16, 15, 4, 5)
    try:
        return dt.datetime.strptime(sample.strftime(fmt), fmt).date() == sample.date()
    except ValueError:
        return False


# What the contract says a mapping may name (given by pipeline/contract.py, which owns it):
# {entity: {column: required}}, and {column: its words} for the VOCABULARY columns.
Columns = dict[str, dict[str, bool]]
Vocabularies = dict[str, tuple[str, ...]]


class _Reader:
    def __init__(self, path: Path, rel: str, columns: Columns, vocabularies: Vocabularies) -> None:
        self.path, self.rel = path, rel
        self.columns, self.vocabularies = columns, vocabularies
        self.lines: dict[str, int] = {}

    def fail(self, line: int, key: str, message: str) -> MappingError:
        return MappingError(f"{self.rel}, line {line}, key '{key}': {message}. Nothing was loaded: fix "
                            "the mapping and run again (docs/bring-your-own-extracts.md).")

    def mapping_node(self, node: yaml.Node, key: str) -> list[tuple[str, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node.start_mark.line + 1, key, "must be a mapping of names to values")
        out = []
        for k, v in node.value:
            name = f"{key}.{k.value}"
            if name in self.lines:
                raise self.fail(k.start_mark.line + 1, name, "given twice")
            self.lines[name] = k.start_mark.line + 1
            out.append((k.value, v))
        return out

    def text(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node.start_mark.line + 1, key, "must be text")
        return node.value

    def read(self) -> Mapping:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except UnicodeDecodeError:
            raise MappingError(f"{self.rel}: not UTF-8 text; save the mapping as UTF-8.") from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            raise MappingError(f"{self.rel}, line {mark.line + 1 if mark else 1}: not valid YAML: "
                               f"{error.problem or error.context}.") from None
        if not isinstance(root, yaml.MappingNode):
            raise MappingError(f"{self.rel}: a mapping file is a YAML mapping with the keys {', '.join(KEYS)}.")
        nodes: dict[str, yaml.Node] = {}
        for k, v in root.value:
            if k.value not in KEYS:
                raise self.fail(k.start_mark.line + 1, k.value, f"unknown key (the keys are {', '.join(KEYS)})")
            if k.value in nodes:
                raise self.fail(k.start_mark.line + 1, k.value, "given twice")
            nodes[k.value] = v
            self.lines[k.value] = k.start_mark.line + 1
        for key in ("entity", "files", "columns"):
            if key not in nodes:
                raise self.fail(1, key, "is required")
        entity = self.text(nodes["entity"], "entity")
        if entity not in ENTITY_NAMES:
            raise self.fail(self.lines["entity"], "entity", f"{entity!r} is not one of {', '.join(ENTITY_NAMES)}")
        files = self._files(nodes["files"])
        contract = self.columns[entity]
        columns, constants = self._columns(nodes, entity, contract)
        formats, timezone = self._timestamps(nodes.get("timestamps"))
        values = self._values(nodes.get("values"), contract, columns)
        return Mapping(self.path, self.rel, entity, files, columns, constants, formats, timezone, values,
                       self.lines, hashlib.sha256(self.path.read_bytes()).hexdigest())

    def _files(self, files_node: yaml.Node) -> list[str]:
        files = ([self.text(files_node, "files")] if isinstance(files_node, yaml.ScalarNode)
                 else [self.text(n, "files") for n in getattr(files_node, "value", [])])
        if not files:
            raise self.fail(self.lines["files"], "files", "must name at least one file or glob")
        for pattern in files:
            if pattern.startswith("/") or ".." in Path(pattern).parts:
                raise self.fail(self.lines["files"], "files",
                                f"{pattern!r} must stay inside {FOLDER}/ (a path relative to the mapping)")
            if not _ext(pattern.rstrip("*")) and not pattern.endswith("*") and "*" not in Path(pattern).name:
                raise self.fail(self.lines["files"], "files",
                                f"{pattern!r} names no .csv, .csv.gz, .parquet or .json file")
        return files

    def _columns(self, nodes: dict[str, yaml.Node], entity: str,
                 contract: dict[str, bool]) -> tuple[dict[str, str], dict[str, str]]:
        columns = {}
        for name, node in self.mapping_node(nodes["columns"], "columns"):
            if name not in contract:
                raise self.fail(self.lines[f"columns.{name}"], f"columns.{name}",
                                f"{name!r} is not a {entity} column (they are {', '.join(contract)})")
            columns[name] = self.text(node, f"columns.{name}")
        constants = {}
        for name, node in self.mapping_node(nodes["constants"], "constants") if "constants" in nodes else []:
            if name not in contract:
                raise self.fail(self.lines[f"constants.{name}"], f"constants.{name}",
                                f"{name!r} is not a {entity} column")
            if name in columns:
                raise self.fail(self.lines[f"constants.{name}"], f"constants.{name}",
                                "is mapped from a column already")
            constants[name] = "" if node.tag.endswith(":null") else self.text(node, f"constants.{name}")
        missing = [c for c, required in contract.items()
                   if required and c not in columns and not constants.get(c)]
        if missing:
            raise self.fail(self.lines["columns"], "columns",
                            f"the required {entity} column(s) {', '.join(missing)} are not mapped "
                            "(map each to a source column, or give it in constants)")
        return columns, constants

    def _timestamps(self, node: yaml.Node | None) -> tuple[list[str], str | None]:
        formats: list[str] = []
        timezone = None
        for name, sub in self.mapping_node(node, "timestamps") if node is not None else []:
            key = f"timestamps.{name}"
            if name == "formats":
                items = [sub] if isinstance(sub, yaml.ScalarNode) else list(getattr(sub, "value", []))
                for item in items:
                    fmt = self.text(item, key)
                    if not _valid_format(fmt):
                        raise self.fail(item.start_mark.line + 1, key,
                                        f"{fmt!r} is not a timestamp format (strptime codes such as "
                                        "'%m/%d/%Y %I:%M:%S %p', with the date and the time)")
                    formats.append(fmt)
            elif name == "timezone":
                timezone = self.text(sub, key)
                try:
                    zoneinfo.ZoneInfo(timezone)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    raise self.fail(self.lines[key], key, f"{timezone!r} is not a time zone (an IANA name "
                                                          "such as America/New_York)") from None
            else:
                raise self.fail(self.lines[key], key, "unknown key (the keys are formats, timezone)")
        return formats, timezone

    def _values(self, node: yaml.Node | None, contract: dict[str, bool],
                columns: dict[str, str]) -> dict[str, dict[str, str]]:
        values: dict[str, dict[str, str]] = {}
        for name, sub in self.mapping_node(node, "values") if node is not None else []:
            key = f"values.{name}"
            if name not in contract or name not in VOCABULARY:
                raise self.fail(self.lines[key], key, f"values map a column onto the contract's words: "
                                                      f"{', '.join(c for c in VOCABULARY if c in contract)}")
            if name not in columns:
                raise self.fail(self.lines[key], key, f"{name!r} is not mapped from a source column")
            allowed = self.vocabularies[name]
            vocab = {}
            for source, target in self.mapping_node(sub, key):
                word = self.text(target, f"{key}.{source}")
                if word not in allowed:
                    raise self.fail(self.lines[f"{key}.{source}"], f"{key}.{source}",
                                    f"{word!r} is not a contract {name} (they are {', '.join(allowed)})")
                vocab[source.strip().lower()] = word
            values[name] = vocab
        return values


def mapping_files(raw_dir: Path) -> list[Path]:
    """The mapping files: ``raw/mapped/*.yaml`` (and ``.yml``), in name order."""
    folder = Path(raw_dir) / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml"))


def read_mappings(raw_dir: Path, columns: Columns, vocabularies: Vocabularies) -> list[Mapping]:
    """Every mapping file of the raw folder, checked against the contract's ``columns`` and
    ``vocabularies`` (MappingError at the first problem); a file covered by two mappings is an
    error too."""
    raw_dir = Path(raw_dir)
    mappings = [_Reader(p, p.relative_to(raw_dir).as_posix(), columns, vocabularies).read()
                for p in mapping_files(raw_dir)]
    owner: dict[Path, Mapping] = {}
    for m in mappings:
        for path in m.paths():
            if path in owner:
                raise m.fail("files", f"{path.relative_to(raw_dir).as_posix()} is covered by "
                                      f"{owner[path].rel} too: a file is read through one mapping")
            owner[path] = m
    return mappings


def covered(mappings: list[Mapping]) -> dict[Path, Mapping]:
    """{file: the mapping that covers it}."""
    return {path: m for m in mappings for path in m.paths()}
