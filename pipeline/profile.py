"""The city profile: everything that makes the reports one city's (docs/data-contract.md,
"The city profile").

The project ships Toronto's profile (``pipeline/data/city.yaml``); ``<raw>/reference/city.yaml``
beside the extracts overrides any top-level key, whole (``null`` removes an optional one).

Public interface::

    load_profile(raw_dir) -> Profile      # the default, with the raw folder's overrides
    Profile.settings() -> dict            # what key_metrics.json and manifest.json record
    Profile.dbt_vars() -> dict            # the values the dbt models count with
    ProfileError                          # one paragraph naming the file, line and key

A bad profile (an unknown key, a wrong type, a time zone that does not exist, an unknown
holiday country, a boundary file without the named properties, a population file that does
not match the boundaries) stops the run before anything is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import CxError
from .paths import DATA_DIR, DBT_DIR

FILE_NAME = "city.yaml"
DEFAULT_PATH = DATA_DIR / FILE_NAME

# key → (kind, required). Kinds: text, mapping of sub-keys, or the standards' numbers.
STANDARDS = {
    "phone_service_level_seconds": int,
    "phone_service_level_target": float,
    "short_abandon_seconds": int,
    "email_acknowledgement_hours": int,
}
SUB_KEYS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "holidays": {"country": (str, True), "subdivision": ((str, type(None)), False), "also": (list, False)},
    "wards": {"boundaries": (str, True), "population": (str, True)},
    "standards": {k: (t, True) for k, t in STANDARDS.items()},
    "mail": {"from": (str, True), "reply_to": ((str, type(None)), False)},
}
TOP_KEYS: dict[str, tuple[str, bool]] = {  # key → (kind, may be null)
    "city": ("text", False),
    "service": ("text", False),
    "division": ("text", False),
    "timezone": ("text", False),
    "holidays": ("mapping", False),
    "wards": ("mapping", True),
    "bia_boundaries": ("text", True),
    "standards": ("mapping", False),
    "mail": ("mapping", False),
}
# The years the holiday calendar covers (business days are counted within it).
FIRST_YEAR, LAST_YEAR = 2015, 2035
# The analysis parameters stay dbt vars (dbt_project/dbt_project.yml); documents state them too.
ANALYSIS_VARS = ("surge_factor", "surge_floor", "surge_window_days", "inquiry_surge_floor",
                 "surge_profile_cutoff_hour", "per_residents")


class ProfileError(CxError):
    """The city profile is not valid; the message names file, line and key."""


@dataclass(frozen=True)
class Wards:
    boundaries: Path
    population: Path


@dataclass(frozen=True)
class Profile:
    city: str
    service: str
    division: str
    timezone: str
    holidays: dict[str, Any]  # country, subdivision, also
    wards: Wards | None
    bia_boundaries: Path | None
    standards: dict[str, int | float]
    mail: dict[str, str | None]
    sources: tuple[str, ...]  # the files it was read from, default first

    def holiday_calendar(self, first_year: int = FIRST_YEAR,
                         last_year: int = LAST_YEAR) -> list[tuple[dt.date, str]]:
        """The days that are not business days besides weekends: the holidays library's public
        holidays of the profile's country and subdivision, plus the days of its other
        categories named in ``also`` (Toronto: the Civic Holiday), each weekend holiday also
        observed on the next weekday that is not already a holiday or an observed day (Canada
        Day 2023, a Saturday, on Monday 3 July; Christmas 2022, a Sunday, on Tuesday 27
        December because Boxing Day took the Monday)."""
        import holidays

        spec, years = self.holidays, range(first_year, last_year + 1)
        public = holidays.country_holidays(spec["country"], subdiv=spec["subdivision"], years=years,
                                           observed=False)
        days = dict(public)
        if spec["also"]:
            others = tuple(c for c in public.supported_categories if c != holidays.PUBLIC)
            extra = holidays.country_holidays(spec["country"], subdiv=spec["subdivision"], years=years,
                                              observed=False, categories=others) if others else {}
            days.update({d: name for d, name in extra.items() if any(a in name for a in spec["also"])})
        observed: dict[dt.date, str] = {}
        for day, name in sorted(days.items()):
            if day.weekday() < 5:
                continue
            substitute = day
            while substitute.weekday() >= 5 or substitute in days or substitute in observed:
                substitute += dt.timedelta(days=1)
            observed[substitute] = f"{name} (observed)"
        return sorted({**days, **observed}.items())

    def settings(self) -> dict[str, Any]:
        """The values every figure and sentence of a run uses: key_metrics.json's ``settings``."""
        return {"city": self.city, "service": self.service, "division": self.division,
                "timezone": self.timezone, **self.standards, **analysis_vars()}

    def dbt_vars(self) -> dict[str, Any]:
        """The profile's values the dbt models count with (``dbt --vars``)."""
        return dbt_vars(self.settings())

    def ward_table(self) -> list[tuple[int, str, int]]:
        """The wards the warehouse counts with, (number, name, population) by number: the
        profile's population file (checked against its boundaries when the profile was read).
        A profile without wards gets the shipped default's for now (docs/data-contract.md)."""
        wards = self.wards or _load(None, ()).wards
        if wards is None:
            return []
        with wards.population.open(encoding="utf-8-sig", newline="") as f:
            return sorted((int(row["ward_number"]), row["ward_name"].strip(), int(row["population"]))
                          for row in csv.DictReader(f))

    def digest_text(self) -> str:
        """Everything of the profile a build depends on, as stable text (for the fingerprint)."""
        paths = (self.wards.boundaries, self.wards.population) if self.wards else ()
        files = [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
        return json.dumps({"vars": self.dbt_vars(), "holidays": self.holidays, "files": files}, sort_keys=True,
                          default=list)


# dbt var → the profile setting it takes its value from
DBT_VARS = {"timezone": "timezone", "service_level_seconds": "phone_service_level_seconds",
            "service_level_target": "phone_service_level_target",
            "short_abandon_seconds": "short_abandon_seconds", "email_ack_hours": "email_acknowledgement_hours"}


def dbt_vars(settings: dict[str, Any]) -> dict[str, Any]:
    """The dbt vars of a profile's settings (as Profile.settings() gives them, or as a
    warehouse recorded them in raw.city_settings)."""
    return {var: settings[name] for var, name in DBT_VARS.items()}


@functools.cache
def analysis_vars() -> dict[str, Any]:
    """The analysis parameters from dbt_project.yml's vars, as documents state them."""
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {name: project["vars"][name] for name in ANALYSIS_VARS}


def _display(path: Path) -> str:
    return "/".join(Path(path).parts[-3:])


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "empty"
    return f"{node.value!r}"


class _Reader:
    """One profile file's nodes, checked against TOP_KEYS and SUB_KEYS."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node, key: str, message: str) -> ProfileError:
        return ProfileError(f"{_display(self.path)}, line {node.start_mark.line + 1}, key '{key}': {message}. "
                            "Fix the city profile and run again (README: The city profile).")

    def read(self) -> dict[str, tuple[Any, yaml.Node]]:
        try:
            root = yaml.compose(self.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = f", line {mark.line + 1}" if mark is not None else ""
            raise ProfileError(f"{_display(self.path)}{line}: not valid YAML: "
                               f"{error.problem or error.context}.") from None
        except UnicodeDecodeError:
            raise ProfileError(f"{_display(self.path)}: not UTF-8 text; save it as UTF-8.") from None
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            raise ProfileError(f"{_display(self.path)}: the profile must be a mapping of keys "
                               f"({', '.join(TOP_KEYS)}), not {_kind(root)}.")
        out: dict[str, tuple[Any, yaml.Node]] = {}
        for key_node, value_node in root.value:
            key = key_node.value
            if key not in TOP_KEYS:
                raise self.fail(key_node, key, f"unknown key (the keys are {', '.join(TOP_KEYS)})")
            if key in out:
                raise self.fail(key_node, key, "given twice")
            out[key] = (self.value(key, value_node), value_node)
        return out

    def value(self, key: str, node: yaml.Node) -> Any:
        kind, nullable = TOP_KEYS[key]
        plain = yaml.SafeLoader(  # the node's Python value, through PyYAML's own constructor
            "").construct_document(node)
        if plain is None:
            if nullable:
                return None
            raise self.fail(node, key, "is required here and cannot be empty")
        if kind == "text":
            if not isinstance(plain, str) or not plain.strip():
                raise self.fail(node, key, f"must be text, not {_kind(node)}")
            return plain.strip()
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, f"must be a mapping with {', '.join(SUB_KEYS[key])}, not {_kind(node)}")
        subs = SUB_KEYS[key]
        values = {sub_key.value: self.sub_value(key, sub_key, sub_node, plain[sub_key.value])
                  for sub_key, sub_node in node.value}
        for sub, (_, required) in subs.items():
            if required and sub not in values:
                raise self.fail(node, key, f"needs '{sub}' (a key given in city.yaml replaces the "
                                           f"default's whole value: give {', '.join(subs)})")
        return values

    def sub_value(self, key: str, sub_key: yaml.Node, sub_node: yaml.Node, got: Any) -> Any:
        subs, name = SUB_KEYS[key], f"{key}.{sub_key.value}"
        if sub_key.value not in subs:
            raise self.fail(sub_key, name, f"unknown key (the keys of '{key}' are {', '.join(subs)})")
        want = subs[sub_key.value][0]
        if str in (want if isinstance(want, tuple) else (want,)) and isinstance(sub_node, yaml.ScalarNode) \
                and got is not None:
            got = sub_node.value.strip()  # text as written: YAML 1.1 would read ON (Ontario) as true
        if want is float and isinstance(got, int) and not isinstance(got, bool):
            got = float(got)
        if isinstance(got, bool) or not isinstance(got, want):
            wanted = {int: "a whole number", float: "a number", str: "text", list: "a list"}.get(want, "text")
            raise self.fail(sub_node, name, f"must be {wanted}, not {_kind(sub_node)}")
        return got


def _check_timezone(reader: _Reader, node: yaml.Node, name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise reader.fail(node, "timezone", f"{name!r} is not a time zone (an IANA name such as "
                                            "America/Toronto or America/Vancouver)") from None


def _check_holidays(reader: _Reader, node: yaml.Node, spec: dict[str, Any]) -> None:
    import holidays

    supported = holidays.list_supported_countries()
    country = spec["country"]
    if country not in supported:
        raise reader.fail(node, "holidays.country", f"{country!r} is not a country the holidays library "
                                                    "knows (an ISO 3166 code such as CA or US)")
    sub = spec.get("subdivision")
    if sub is not None and sub not in supported[country]:
        raise reader.fail(node, "holidays.subdivision",
                          f"{sub!r} is not a subdivision of {country} ({', '.join(supported[country])})")
    for name in spec.get("also") or []:
        if not isinstance(name, str):
            raise reader.fail(node, "holidays.also", "must be a list of holiday names")


def _features(reader: _Reader, node: yaml.Node, key: str, path: Path, properties: tuple[str, ...]) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data["features"]
    except FileNotFoundError:
        raise reader.fail(node, key, f"the file {path} does not exist") from None
    except (ValueError, KeyError, TypeError):
        raise reader.fail(node, key, f"{path.name} is not a GeoJSON FeatureCollection") from None
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        missing = [p for p in properties if props.get(p) in (None, "")]
        if missing:
            raise reader.fail(node, key, f"{path.name}: feature {i} has no {' or '.join(missing)} property "
                                         f"(each needs {', '.join(properties)})")
    return features


def _check_wards(reader: _Reader, node: yaml.Node, wards: Wards) -> None:
    features = _features(reader, node, "wards.boundaries", wards.boundaries, ("ward_number", "ward_name"))
    polygons = {int(f["properties"]["ward_number"]): str(f["properties"]["ward_name"]) for f in features}
    try:
        with wards.population.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise reader.fail(node, "wards.population", f"the file {wards.population} does not exist") from None
    need = {"ward_number", "ward_name", "population"}
    if not rows or not need <= set(rows[0]):
        raise reader.fail(node, "wards.population", f"{wards.population.name} needs the columns "
                                                    "ward_number, ward_name, population")
    counted = {}
    for line, row in enumerate(rows, start=2):
        if not row["ward_number"].strip().isdigit() or not row["population"].strip().isdigit():
            raise reader.fail(node, "wards.population", f"{wards.population.name}, line {line}: ward_number "
                                                        "and population must be whole numbers")
        counted[int(row["ward_number"])] = row["ward_name"].strip()
    if counted != polygons:
        only_csv = sorted(set(counted) - set(polygons))
        only_geo = sorted(set(polygons) - set(counted))
        renamed = sorted(n for n in set(counted) & set(polygons) if counted[n] != polygons[n])
        raise reader.fail(node, "wards.population",
                          f"{wards.population.name} does not match {wards.boundaries.name} (wards only in the "
                          f"population file: {only_csv or 'none'}; only in the boundaries: {only_geo or 'none'}; "
                          f"named differently: {renamed or 'none'})")


def load_profile(raw_dir: Path | None = None) -> Profile:
    """Toronto's profile, with ``<raw_dir>/reference/city.yaml``'s keys in place of its own
    (read once per process while the files are unchanged)."""
    raw = None if raw_dir is None else Path(raw_dir).resolve()
    stamps = []
    for path in (DEFAULT_PATH, raw / "reference" / FILE_NAME if raw is not None else None):
        stat = path.stat() if path is not None and path.is_file() else None
        stamps.append((stat.st_mtime_ns, stat.st_size) if stat else None)
    return _load(raw, tuple(stamps))


@functools.lru_cache(maxsize=8)
def _load(raw_dir: Path | None, _stamps: tuple) -> Profile:
    default = _Reader(DEFAULT_PATH)
    values = {k: (v, n, default, DATA_DIR) for k, (v, n) in default.read().items()}
    sources = [str(DEFAULT_PATH)]
    override = raw_dir / "reference" / FILE_NAME if raw_dir is not None else None
    if override is not None and override.is_file():
        reader = _Reader(override)
        values.update({k: (v, n, reader, override.parent) for k, (v, n) in reader.read().items()})
        sources.append(str(override))

    def get(key: str) -> Any:
        return values[key][0] if key in values else None

    tz_value, tz_node, tz_reader, _ = values["timezone"]
    _check_timezone(tz_reader, tz_node, tz_value)
    hol, hol_node, hol_reader, _ = values["holidays"]
    _check_holidays(hol_reader, hol_node, hol)
    wards = None
    if get("wards") is not None:
        spec, node, reader, base = values["wards"]
        wards = Wards(base / spec["boundaries"], base / spec["population"])
        _check_wards(reader, node, wards)
    bia = None
    if get("bia_boundaries") is not None:
        name, node, reader, base = values["bia_boundaries"]
        # the shipped default names the analyst's file under raw/reference/, read when it exists
        bia = (raw_dir / "reference" / name) if reader is default and raw_dir is not None else base / name
        if bia.is_file():
            _features(reader, node, "bia_boundaries", bia, ("bia_name",))
    standards = dict(get("standards"))
    target_node = values["standards"][1]
    if not 0 < standards["phone_service_level_target"] <= 1:
        raise values["standards"][2].fail(target_node, "standards.phone_service_level_target",
                                          "must be a share between 0 and 1 (0.80 for 80%)")
    return Profile(
        city=get("city"), service=get("service"), division=get("division"), timezone=tz_value,
        holidays={"country": hol["country"], "subdivision": hol.get("subdivision"),
                  "also": tuple(hol.get("also") or ())},
        wards=wards, bia_boundaries=bia, standards=standards,
        mail={"from": get("mail")["from"], "reply_to": get("mail").get("reply_to")},
        sources=tuple(sources),
    )
