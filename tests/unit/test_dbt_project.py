"""The dbt project checked without dbt: one yml per mart beside its SQL; the BIA name key
of typed names against the macro's fixtures; sqlfluff's copy of the macros against the macros."""

from __future__ import annotations

import csv
import importlib.util
import inspect
import json
import re
import warnings
from pathlib import Path

import yaml

from pipeline.profile import load_profile

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MARTS = DBT_DIR / "models" / "marts"


def test_every_mart_has_its_own_yml_with_its_unit_tests() -> None:
    sql = sorted(p.stem for p in MARTS.glob("mart_*.sql"))
    yml = sorted(p.stem for p in MARTS.glob("mart_*.yml"))
    assert len(sql) > 20 and sql == yml
    for name in sql:
        doc = yaml.safe_load((MARTS / f"{name}.yml").read_text(encoding="utf-8"))
        assert [m["name"] for m in doc["models"]] == [name], name
        assert {t["model"] for t in doc.get("unit_tests", [])} <= {name}, name
    # besides the marts' own files, only the exposures
    assert sorted(p.name for p in MARTS.glob("*.yml") if not p.name.startswith("mart_")) == ["_exposures.yml"]


def test_typed_bia_names_match_as_the_bia_key_macro_matches_the_extracts() -> None:
    """Names people type (--bia, bia_contacts.csv) never reach the warehouse, so Python keys
    them (pipeline.bia.batch.typed_name_key); they must match the seed exactly as the dbt macro
    bia_key matches the extracts' spellings: int_sr_bias's unit test bia_names_match_on_bia_key
    and this test read the same spellings and matches."""
    from pipeline.bia.batch import typed_name_key

    fixtures = DBT_DIR / "tests" / "fixtures"
    with (fixtures / "bia_key_spellings.csv").open(encoding="utf-8", newline="") as f:
        spellings = [row["bia"] for row in csv.DictReader(f)]
    with (fixtures / "bia_key_matches.csv").open(encoding="utf-8", newline="") as f:
        matches = {row["bia_raw"]: row["bia_name"] or None for row in csv.DictReader(f)}
    doc = yaml.safe_load((DBT_DIR / "models" / "intermediate" / "_intermediate__models.yml").read_text("utf-8"))
    test = next(t for t in doc["unit_tests"] if t["name"] == "bia_names_match_on_bia_key")
    seed = [row["bia_name"] for given in test["given"] if given["input"] == "ref('bias')" for row in given["rows"]]
    assert len(seed) == 3 and sorted(matches) == sorted(spellings)
    assert "  KENSINGTON   MARKET  bia " in spellings and "Kensington\tMarket" in spellings  # read as written
    by_key = {typed_name_key(name): name for name in seed}
    assert {spelling: by_key.get(typed_name_key(spelling)) for spelling in spellings} == matches
    assert sum(v is None for v in matches.values()) == 4  # a doubled BIA, 'bia' glued on, no hyphen, Nowhere


# --------------------------------------------------------------------------- sqlfluff's copy of the macros

SQLFLUFF_LIB = DBT_DIR / "sqlfluff_libs" / "cx311.py"
MACRO_RE = re.compile(r"{%-?\s*macro\s+(\w+)\((.*?)\)\s*-?%}")
ADAPTERS = ("default", "duckdb", "spark")
# Macros sqlfluff's templater needs no copy of, and why.
NOT_IN_SQLFLUFF_LIB = {
    "generate_schema_name": "dbt calls it itself, no model does",
    "prepare_run": "an on-run-start hook in dbt_project.yml, which is not linted",
    "publish_mart": "a post-hook in dbt_project.yml, which is not linted",
    "spark_epoch": "only spark__seconds_between calls it",
    "latest_delivery": "called without the cx311. prefix: the templater loads it from macros/",
    "version_order": "called without the cx311. prefix: the templater loads it from macros/",
    "any_repeated_id": "only latest_delivery calls it, without the cx311. prefix: the templater loads it from macros/",
    "bia_key": "called without the cx311. prefix: the templater loads it from macros/",
    "clean_type_name": "called without the cx311. prefix: the templater loads it from macros/",
    "street_name": "called without the cx311. prefix: the templater loads it from macros/",
    "location_name": "called without the cx311. prefix: the templater loads it from macros/",
}
JINJA_CONSTANTS = {"none": None, "false": False, "true": True}


def _macros() -> dict[str, list[tuple[str, object]]]:
    """Every macro in dbt_project/macros: name → [(argument, default)], no default = ...."""
    found: dict[str, list[tuple[str, object]]] = {}
    for path in sorted((DBT_DIR / "macros").rglob("*.sql")):
        for name, args in MACRO_RE.findall(path.read_text(encoding="utf-8")):
            assert name not in found, f"{name} defined twice"
            params = []
            for arg in filter(None, (a.strip() for a in args.split(","))):
                arg_name, _, default = arg.partition("=")
                params.append((arg_name.strip(), JINJA_CONSTANTS[default.strip()] if default else ...))
            found[name] = params
    return found


def _public(macros: dict) -> dict:
    return {n: p for n, p in macros.items() if not any(n.startswith(f"{a}__") for a in ADAPTERS)}


def _sqlfluff_lib():
    spec = importlib.util.spec_from_file_location("cx311_sqlfluff_lib", SQLFLUFF_LIB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {n: f for n, f in vars(module).items() if inspect.isfunction(f)}


def _signature(function) -> list[tuple[str, object]]:
    return [(p.name, ... if p.default is inspect.Parameter.empty else p.default)
            for p in inspect.signature(function).parameters.values()]


def test_sqlfluff_lib_has_every_macro_with_its_signature() -> None:
    """sqlfluff_libs/cx311.py is sqlfluff's hand copy of the macros (it cannot dispatch): every
    macro is in it with the same arguments and defaults, or named in NOT_IN_SQLFLUFF_LIB with
    why; it holds nothing else; and every cx311.<macro> the models and tests call is in it."""
    macros = _public(_macros())
    lib = _sqlfluff_lib()
    assert len(macros) > 15 and set(NOT_IN_SQLFLUFF_LIB) <= set(macros)
    assert sorted(set(macros) - set(NOT_IN_SQLFLUFF_LIB) - set(lib)) == []  # missing from the copy
    assert sorted(set(lib) - set(macros)) == []  # in the copy, no longer a macro
    assert sorted(set(lib) & set(NOT_IN_SQLFLUFF_LIB)) == []
    assert {name: _signature(f) for name, f in lib.items()} == {name: macros[name] for name in lib}
    called = {m for path in (DBT_DIR / "models").rglob("*") if path.suffix in (".sql", ".yml")
              for m in re.findall(r"\bcx311\.(\w+)\(", path.read_text(encoding="utf-8"))}
    called |= {m for path in (DBT_DIR / "tests").rglob("*.sql")
               for m in re.findall(r"\bcx311\.(\w+)\(", path.read_text(encoding="utf-8"))}
    assert len(called) > 10 and sorted(called - set(lib)) == []


class _Return(Exception):  # noqa: N818 (dbt's `return`, as dbt implements it)
    def __init__(self, value):
        super().__init__()
        self.value = value


def _render_macros():
    """The macros as dbt renders them on DuckDB, in plain Jinja: `adapter.dispatch` picks the
    duckdb__ implementation, else default__; `return` as dbt's; the build is incremental (as
    the copy assumes) and `this` is named this."""
    import jinja2

    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DBT_DIR / "macros").rglob("*.sql")))
    # the project's vars and those the pipeline passes from the shipped city profile (--vars)
    dbt_vars = {**yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"],
                **load_profile().dbt_vars()}
    module = None

    def call(name):
        def run(*args, **kwargs):
            try:
                return str(getattr(module, name)(*args, **kwargs))
            except _Return as returned:
                return str(returned.value)
        return run

    def dispatch(name, namespace):
        assert namespace == "cx311"
        for adapter in ("duckdb", "default"):
            if hasattr(module, f"{adapter}__{name}"):
                return call(f"{adapter}__{name}")
        raise AssertionError(f"no duckdb__ or default__ {name}")

    def give_back(value):
        raise _Return(value)

    class Namespace:
        def __getattr__(self, name):
            return call(name)

    class Raiser:
        def raise_compiler_error(self, message):
            raise AssertionError(message)

    class Adapter:
        pass

    class This(str):  # the model's own relation, rendered as `this`
        identifier = "int_interactions"

    adapter = Adapter()
    adapter.dispatch = dispatch
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    context = {"cx311": Namespace(), "adapter": adapter, "return": give_back, "exceptions": Raiser(),
               "var": dbt_vars.__getitem__, "is_incremental": lambda: True, "this": This("this"),
               "env_var": lambda name, default: default,  # as in a build not given CX311_ROWS_HELD
               "fromjson": json.loads}
    with warnings.catch_warnings():  # '\s' in the macros' string literals: Jinja keeps it, and warns
        warnings.simplefilter("ignore", DeprecationWarning)
        template = env.from_string(source)
    module = template.make_module(context)
    return Namespace()


def test_sqlfluff_lib_renders_what_the_macros_render_on_duckdb() -> None:
    """Each copied function gives the text of its macro's duckdb__ (or default__) rendering,
    called with every argument by name, with the defaults and with other values."""
    dbt = _render_macros()
    lib = _sqlfluff_lib()
    other = {None: "<other>", False: True, True: False}
    for name, function in sorted(lib.items()):
        params = _signature(function)
        for use_defaults in (True, False):
            kwargs = {arg: f"<{arg}>" if default is ... else default if use_defaults else other[default]
                      for arg, default in params}
            if name == "regexp_replace":  # the pattern is a regular expression, its replacement text
                kwargs.update(pattern=r"\s+", replacement=" ")
            assert function(**kwargs) == getattr(dbt, name)(**kwargs), (name, kwargs)
    assert dbt.local_time(column="c") == "timezone('America/Toronto', c)"  # var timezone (the shipped profile's), as in the copy
