"""Run the dbt project against a warehouse file, on DuckDB (the default) or on Spark.

DuckDB reads the loader's landing tables and writes the marts into the warehouse file itself.
Spark reads the landing zone (the landing tables as Parquet files, ``pipeline/landing_zone.py``)
and publishes each mart as Parquet, which is then copied into the warehouse file's ``marts``
schema: whatever the engine, Python reads ``marts.<mart>`` from the warehouse file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from . import landing_zone
from .errors import CxError, disk_full, full_disk_path
from .outputs import die_with_parent
from .paths import DBT_DIR
from .profile import dbt_vars
from .warehouse import import_marts

# What a build depends on besides the landing tables: the dbt project's own files.
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "materializations", "tests")
# dbt's parse state, shared by every output folder of this checkout: with it a build in a new
# folder parses only what changed (about 3 s less). dbt checks it against the project's files,
# vars and profile itself and parses everything again when it is stale.
PARSE_STATE = "partial_parse.msgpack"
PARSE_CACHE = DBT_DIR / "target" / PARSE_STATE
# The Python code dbt's Jinja templates compile to, kept for every dbt run of this checkout
# (dbt_process.py: keep_compiled_templates).
CODE_CACHE = DBT_DIR / "target" / "jinja_code"
ENGINES = ("duckdb", "spark")
# The child process dbt runs in: dbt's events at info level and above as JSON lines. Python
# runs it with -P: its own folder (this package's) must not come first on sys.path, where
# profile.py would hide the standard library's `profile`, which dbt imports.
DBT_PROCESS = Path(__file__).with_name("dbt_process.py")
# Commands whose results are read from run_results.json (the bench, the tests): they run with
# --no-write-json, which spares a build writing manifest.json twice (nothing here reads it;
# `dbt docs generate` writes its own), and dbt_process.py writes run_results.json itself.
WRITES_RESULTS = ("build", "run", "seed", "test")
# Spark's files, beside the warehouse file (dbt runs in its folder; the profile's spark target
# names the same relative paths): the landing zone, Spark's own tables, the published marts.
SPARK_DIR = "warehouse"


Progress = Callable[[str, int, int], None]  # (item just finished, done, total)


class TransformError(CxError):
    """dbt failed; the message holds the end of its output."""


def parse_cache(engine: str = "duckdb") -> Path:
    """dbt's parse state kept for the next output folder, one per engine (the profile differs)."""
    return PARSE_CACHE if engine == "duckdb" else PARSE_CACHE.with_name(f"partial_parse.{engine}.msgpack")


def spark_paths(db_path: Path) -> dict[str, Path]:
    """Where a Spark build reads and writes: beside the warehouse file, unless CX311_LANDING and
    CX311_RESULTS name the landing zone and the published marts elsewhere (shared storage that
    a cluster reads; README: When one machine is not enough)."""
    root = Path(db_path).resolve().parent / SPARK_DIR
    return {"landing": Path(os.environ.get("CX311_LANDING") or root / "landing").resolve(),
            "spark": root / "spark",
            "marts": Path(os.environ.get("CX311_RESULTS") or root / "marts").resolve()}


def _clear_published(marts: Path) -> None:
    """Remove the marts a previous Spark build published (Spark's output folders only)."""
    if marts.is_dir():
        for folder in marts.iterdir():
            if folder.is_dir() and ((folder / "_SUCCESS").exists() or any(folder.glob("*.parquet"))):
                shutil.rmtree(folder)


def dbt_env(db_path: Path, work_dir: Path, engine: str = "duckdb",
            rows_held: dict[str, int] | None = None) -> dict[str, str]:
    """Environment for a dbt run: the engine, the warehouse and where dbt writes its own files,
    and ``rows_held``: the highest delivery rank each row-level model already holds
    (``CX311_ROWS_HELD``, JSON; a model not named is made from every row: macros/engine.sql).

    dbt runs in the warehouse's folder and is given the file's bare name, so the profile (which
    dbt hashes into its parse state) is the same for every output folder."""
    env = dict(os.environ)
    env["CX311_ENGINE"] = engine
    env["CX311_DB"] = Path(db_path).name
    env["CX311_ROWS_HELD"] = json.dumps(rows_held or {}, sort_keys=True)
    if engine == "spark":
        paths = spark_paths(db_path)
        env["CX311_LANDING"] = str(paths["landing"])
        env["CX311_RESULTS"] = str(paths["marts"])
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: nothing listens beyond loopback
    env["DBT_TARGET_PATH"] = str((Path(work_dir) / "dbt_target").resolve())
    env["DBT_LOG_PATH"] = str((Path(work_dir) / "dbt_logs").resolve())
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DBT_USE_COLORS"] = "false"
    env.setdefault("DBT_PARTIAL_PARSE", "true")
    env.setdefault("CX311_DBT_CODE_CACHE", str(CODE_CACHE))
    # dbt's debug log file costs about 2 s of a build (an event per query); the console events
    # are kept. DBT_LOG_LEVEL_FILE=debug in the environment brings the file back.
    env.setdefault("DBT_LOG_LEVEL_FILE", "none")
    return env


def _event(line: str) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "info" in event else None


def city_settings(db_path: Path) -> dict[str, Any]:
    """The city profile's settings the warehouse's rows were loaded with (``raw.city_settings``,
    written by the loader); a warehouse loaded before profiles existed is loaded again."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        try:
            rows = con.execute("SELECT name, value FROM raw.city_settings ORDER BY name").fetchall()
        except duckdb.CatalogException:
            raise TransformError(f"The warehouse {db_path} records no city profile: load the extracts "
                                 "again (make load) before building.") from None
    return {name: json.loads(value) for name, value in rows}


def project_args(vars_: dict[str, Any]) -> list[str]:
    """dbt's arguments that say what it parses: the city profile's values as ``--vars``, the
    project and the profile."""
    return ["--vars", json.dumps(vars_, sort_keys=True), "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]


def _spawn(args: list[str], env: dict[str, str], db_path: Path, stdin: int | None = None) -> subprocess.Popen:
    """dbt's child process (``dbt_process.py``), in the warehouse's folder; it dies with this one."""
    return subprocess.Popen([sys.executable, "-P", str(DBT_PROCESS), *args], env=env, cwd=Path(db_path).resolve().parent,
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=die_with_parent)


def _restore_parse_state(env: dict[str, str], engine: str) -> Path:
    """Give dbt the kept parse state (``parse_cache``) when its target folder has none; return
    the target folder's parse state file."""
    state = Path(env["DBT_TARGET_PATH"]) / PARSE_STATE
    cache = parse_cache(engine)
    if not state.exists() and cache.exists():
        state.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, state)
    return state


class DbtChild:
    """dbt's child process started ahead of its command, while the load runs: it imports dbt
    and parses the project with the city profile's values known before the load (dbt's whole
    fixed cost, about 1.7 s alone), then waits for ``run_dbt``'s command on stdin
    (``dbt_process.py``'s doc: the protocol). It does not open the warehouse before the command comes::

        with DbtChild(db_path, work_dir, engine) as child:
            child.start(vars_)                 # when a build is likely (not at all: run_dbt spawns one)
            build(..., child=child)            # run_dbt sends it the command
                                               # leaving the block kills it unless it took a command

    ``parsed_ahead``: whether the build used its parse (None until a command was taken)."""

    def __init__(self, db_path: Path, work_dir: Path, engine: str = "duckdb") -> None:
        self.db_path, self.work_dir, self.engine = db_path, work_dir, engine
        self.process: subprocess.Popen | None = None
        self.taken = False
        self.parsed_ahead: bool | None = None
        self.said: list[str] = []  # what it wrote before its answer (a warning at import)

    def __enter__(self) -> DbtChild:
        return self

    def __exit__(self, *_: object) -> None:
        self.end()

    def start(self, vars_: dict[str, Any]) -> None:
        """Start the process (once), parsing with the city profile's values ``vars_``."""
        if self.process is None:
            env = dbt_env(self.db_path, self.work_dir, self.engine)
            _restore_parse_state(env, self.engine)  # the parse ahead reads it
            self.process = _spawn(["--wait", *project_args(vars_)], env, self.db_path, stdin=subprocess.PIPE)

    def take(self, args: list[str], project: list[str], env: dict[str, str]) -> subprocess.Popen | None:
        """Send the command; return the process, whose stdout then carries the command's
        events (None when none was started or it has died: run_dbt spawns one)."""
        if self.process is None or self.taken:
            return None
        self.taken = True
        try:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(json.dumps({"args": args, "project": project, "env": env}) + "\n")
            self.process.stdin.close()
            for line in self.process.stdout:
                answer = _answer(line)
                if answer is not None:
                    self.parsed_ahead = answer
                    return self.process
                self.said.append(line.rstrip("\n"))
        except OSError:  # it died before reading the command
            pass
        self._kill()
        return None

    def end(self) -> None:
        """Kill the process unless it took a command (run_dbt waits for that one)."""
        if self.process is not None and not self.taken:
            self.taken = True
            self._kill()

    def _kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:  # the command half written to a dead process
                    pass


def _answer(line: str) -> bool | None:
    """A ``DbtChild``'s answer to its command (``{"parsed_ahead": …}``), or None."""
    try:
        answer = json.loads(line)
    except ValueError:
        return None
    return bool(answer["parsed_ahead"]) if isinstance(answer, dict) and "parsed_ahead" in answer else None


def run_dbt(command: list[str], db_path: Path, work_dir: Path, quiet: bool = True,
            progress: Progress | None = None, engine: str = "duckdb",
            rows_held: dict[str, int] | None = None, child: DbtChild | None = None) -> str:
    """Run ``dbt <command>`` on the project and return its log text; raise on failure.

    The city profile's values (time zone, service standards) are passed as ``--vars`` from the
    warehouse's ``raw.city_settings``, so a build counts with the profile its rows were loaded with.

    dbt runs in a child process that dies with this one (``dbt_process.py``), writing its
    events as JSON lines: each finished node (model, seed, test) is passed to
    ``progress(name, done, total)``. ``child``: the process started ahead (``DbtChild``),
    used when it was started and is waiting; otherwise one is spawned."""
    no_json = ["--no-write-json"] if command[0] in WRITES_RESULTS else []
    args = [*command, *no_json, "--log-format", "json"]
    project = project_args(dbt_vars(city_settings(db_path)))
    env = dbt_env(db_path, work_dir, engine, rows_held)
    state = _restore_parse_state(env, engine)
    process = child.take(args, project, env) if child is not None else None
    lines: list[str] = list(child.said) if process is not None else []
    logged: list[str] = []  # what the project's macros log: a failing `checks` test's checks
    done = 0
    with process or _spawn([*args, *project], env, db_path) as dbt:
        for raw in dbt.stdout or ():
            event = _event(raw)
            if event is None:
                lines.append(raw.rstrip("\n"))
                continue
            lines.append(event["info"].get("msg", ""))
            data = event.get("data") or {}
            name = event["info"].get("name", "")
            if name == "JinjaLogInfo":
                logged.append(lines[-1])
            if progress is not None and name.endswith("Result") and data.get("node_info"):
                done += 1
                progress(data["node_info"].get("node_name", ""), done, int(data.get("total") or done))
    output = "\n".join(lines) + "\n"
    if dbt.returncode != 0:
        full = full_disk_path(output)
        if full is not None:  # one paragraph, not dbt's log
            raise TransformError(disk_full(full or Path(db_path).parent, f"dbt {command[0]}"))
        tail = output.strip().splitlines()[-40:]
        earlier = [line for line in logged if line not in tail]  # every failing check is named
        said = "\n".join([*earlier, *(["…"] if earlier else []), *tail])
        raise TransformError(f"dbt {' '.join(command)} failed (exit {dbt.returncode}):\n{said}")
    if state.exists():
        _save_parse_state(state, parse_cache(engine))
    if not quiet:
        print(output, end="")
    return output


def _save_parse_state(state: Path, cache: Path) -> None:
    """Keep dbt's parse state for the next output folder (written aside, then renamed)."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
        shutil.copyfile(state, tmp)
        os.replace(tmp, cache)
    except OSError:  # a read-only checkout only loses the speed-up
        pass


def fingerprints(db_path: Path, engine: str = "duckdb") -> tuple[str, str]:
    """(project, build). ``project``: what a build reads besides the loaded files, as JSON of
    its parts (SHA-256 of the dbt project's files and of the engine when it is not DuckDB; of
    the service-standards override; the city profile's settings themselves; SHA-256 of its
    holidays and of its wards (number, name, population); the reference files the load read,
    by path and SHA-256: the BIA boundaries), so that ``rebuild_reason`` can say which part
    changed. ``build``: SHA-256 over
    that and the loaded files (by content hash, in delivery order): everything a build reads."""
    dbt = hashlib.sha256()
    if engine != "duckdb":
        dbt.update(f"engine={engine}".encode())
    for name in PROJECT_INPUTS:
        root = DBT_DIR / name
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                dbt.update(str(path.relative_to(DBT_DIR)).encode())
                dbt.update(path.read_bytes())
    settings = city_settings(db_path)
    with duckdb.connect(str(db_path), read_only=True) as con:
        def rows_sha(query: str) -> str:
            return hashlib.sha256(repr(con.execute(query).fetchall()).encode()).hexdigest()

        project = json.dumps({
            "dbt": dbt.hexdigest(),
            "service_standards": rows_sha("SELECT * FROM raw.service_standards ORDER BY sr_type"),
            "settings": settings,
            "holidays": rows_sha("SELECT * FROM raw.city_holidays ORDER BY holiday_date"),
            "wards": rows_sha("SELECT * FROM raw.city_wards ORDER BY ward_number"),
            "references": {path: sha for path, sha in con.execute(
                "SELECT path, sha256 FROM raw.reference_files ORDER BY name").fetchall()},
        }, sort_keys=True)
        build = hashlib.sha256(project.encode())
        for row in con.execute("SELECT * FROM raw.load_audit ORDER BY delivery_rank, source_file").fetchall():
            build.update(repr(row).encode())
    return project, build.hexdigest()


def project_change(built: str, now: str) -> str:
    """What differs between two ``fingerprints`` project digests, in words."""
    try:
        old, new = json.loads(built), json.loads(now)
    except ValueError:  # a warehouse built before the digest had parts
        return "the dbt project changed"
    said = []
    if old.get("dbt") != new["dbt"]:
        said.append("the dbt project changed")
    if old.get("service_standards") != new["service_standards"]:
        said.append("the service standards changed")
    was, settings = old.get("settings") or {}, new["settings"]
    changed = [f"{k} {was.get(k)} → {v}" for k, v in sorted(settings.items()) if was.get(k) != v]
    if changed:
        said.append("the city profile's settings changed (" + ", ".join(changed) + ")")
    if old.get("holidays") != new["holidays"]:
        said.append("the city profile's holidays changed")
    if old.get("wards") != new["wards"]:
        said.append("the city profile's wards (names or population) changed")
    was_files, files = old.get("references") or {}, new["references"]
    for path in sorted(set(was_files) | set(files)):
        if was_files.get(path) != files.get(path):
            said.append(f"{path} " + ("changed" if was_files.get(path) and files.get(path) else
                                      "was added" if files.get(path) else "was removed"))
    return "; ".join(said) or "the dbt project changed"


# The row-level models kept as tables (one row per SR, and the interactions' daily counts,
# read from the view of one row per interaction) are incremental on DuckDB
# (dbt_project/macros/engine.sql): a build adds the rows of the deliveries loaded since the
# last one (and counts their days again). That is right only while the deliveries they were
# built from are still the first ones, unchanged and in the same order, and the project is
# the same; otherwise the schema they live in (the dbt project's intermediate models,
# `+schema: intermediate`) is dropped and the build makes them again from every row.
# ROWS_BUILT holds the project digest and the deliveries (as JSON) of the last good build, in
# one row.
ROW_MODELS_SCHEMA = "intermediate"
ROW_MODELS = ("int_service_requests", "int_interaction_days")
ROWS_BUILT = "main.cx311_row_models"
Delivery = tuple[str, str, int]  # (source file, SHA-256, delivery rank)


def rebuild_reason(built: list[Delivery], built_project: str | None, current: list[Delivery],
                   project: str) -> str | None:
    """Why the row-level models cannot just add the new deliveries (``None`` when they can):
    ``built`` are the deliveries of the last good build, in delivery order."""
    if built_project is None:
        return "no finished build of this warehouse is recorded"
    if built_project != project:
        return project_change(built_project, project)
    now = {file: sha for file, sha, _ in current}
    for i, (file, sha, rank) in enumerate(built):
        if file not in now:
            return f"{file} is no longer delivered"
        if now[file] != sha:
            return f"{file} changed"
        if current[i] != (file, sha, rank):  # every built file is current: i < len(current)
            return f"the delivery order changed at {file}"
    return None


def _deliveries(con: duckdb.DuckDBPyConnection) -> list[Delivery]:
    return [tuple(row) for row in con.execute(  # type: ignore[misc]
        "SELECT source_file, sha256, delivery_rank FROM raw.load_audit "
        "ORDER BY delivery_rank, source_file").fetchall()]


def _rows_built(con: duckdb.DuckDBPyConnection) -> tuple[list[Delivery], str | None]:
    """The deliveries and the project digest of the last good build (none recorded: [], None)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {ROWS_BUILT} (project VARCHAR, deliveries VARCHAR)")
    row = con.execute(f"SELECT project, deliveries FROM {ROWS_BUILT}").fetchone()
    if row is None:
        return [], None
    return [(file, sha, rank) for file, sha, rank in json.loads(row[1])], row[0]


def prepare_row_models(con: duckdb.DuckDBPyConnection, project: str) -> tuple[str | None, dict[str, int]]:
    """Before a DuckDB build: drop the row-level models when they cannot be added to, and say
    why (``None`` when they can, or when there is nothing to drop); with the highest delivery
    rank each model kept holds (none when dropped): the build reads, and tests, only the rows
    of later deliveries."""
    built, built_project = _rows_built(con)
    why = rebuild_reason(built, built_project, _deliveries(con), project)
    if why is None:
        return None, _rows_held(con)
    con.execute(f"DELETE FROM {ROWS_BUILT}")
    existed = con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = ?",
                          [ROW_MODELS_SCHEMA]).fetchone()[0]  # type: ignore[index]
    con.execute(f"DROP SCHEMA IF EXISTS {ROW_MODELS_SCHEMA} CASCADE")
    return (why if existed else None), {}


def _rows_held(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The highest delivery rank each row-level model holds (its own: a build scoped to one
    exposure adds to one model only); a model missing is not named (it is made from every
    row, and all its rows are tested)."""
    held = {}
    for model in ROW_MODELS:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                             [ROW_MODELS_SCHEMA, model]).fetchone()[0]  # type: ignore[index]
        if exists:
            held[model] = int(con.execute(f"SELECT coalesce(max(delivery_rank), 0) FROM {ROW_MODELS_SCHEMA}.{model}")
                              .fetchone()[0])  # type: ignore[index]
    return held


def record_row_models(con: duckdb.DuckDBPyConnection, project: str) -> None:
    """After a good DuckDB build: the row-level models hold every loaded delivery."""
    con.execute(f"DELETE FROM {ROWS_BUILT}")
    con.execute(f"INSERT INTO {ROWS_BUILT} VALUES (?, ?)", [project, json.dumps(_deliveries(con))])


def check_engine(engine: str) -> None:
    """Stop with what to install when the engine cannot run here."""
    if engine not in ENGINES:
        raise TransformError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)}.")
    if engine == "spark":
        missing = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
        if missing:
            raise TransformError("The Spark engine needs the spark extra: run "
                                 "`make ... ENGINE=spark`, which installs its lock (requirements/spark.txt), or "
                                 "`pip install --require-hashes --no-deps -r requirements/spark.txt`.")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise TransformError("The Spark engine needs Java 17: install it "
                                 "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.")


# What a build covers: "all" (every model, seed and test) or a dbt exposure's name (only the
# models that exposure reads, their parents and the tests on them).
ALL = "all"


def _builds_table(con: duckdb.DuckDBPyConnection) -> None:
    """``main.cx311_build``: (scope, fingerprint) of each good build of the current content.
    A warehouse from before scopes has a one-column table: it is replaced (one full build)."""
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name = 'cx311_build'").fetchall()]
    if columns and "scope" not in columns:
        con.execute("DROP TABLE main.cx311_build")
    con.execute("CREATE TABLE IF NOT EXISTS main.cx311_build (scope VARCHAR, fingerprint VARCHAR)")


def up_to_date(con: duckdb.DuckDBPyConnection, scope: str, current: str) -> bool:
    """True when a good build of the ``current`` fingerprint covers ``scope`` (a full build
    covers every exposure)."""
    _builds_table(con)
    return con.execute("SELECT count(*) FROM main.cx311_build WHERE fingerprint = ? AND scope IN (?, ?)",
                       [current, ALL, scope]).fetchone()[0] > 0


def start_build(con: duckdb.DuckDBPyConnection, scope: str, current: str) -> None:
    """Forget the builds of other content, and this scope's: its models are about to change."""
    _builds_table(con)
    con.execute("DELETE FROM main.cx311_build WHERE fingerprint <> ? OR scope = ?", [current, scope])


def record_build(con: duckdb.DuckDBPyConnection, scope: str, current: str) -> None:
    con.execute("INSERT INTO main.cx311_build VALUES (?, ?)", [scope, current])


def build(db_path: Path, work_dir: Path, quiet: bool = True, unit_tests: bool = False,
          progress: Progress | None = None, engine: str = "duckdb", exposure: str | None = None,
          say: Callable[[str], None] | None = None, child: DbtChild | None = None) -> bool:
    """Seed, run and test every model (``dbt build``) unless nothing it reads has changed
    since the last successful build of this warehouse. Returns True when dbt ran.

    ``exposure``: build only what that dbt exposure reads (``+exposure:<name>``, with the tests
    whose parents are all selected), e.g. the BIA reports' marts without the interactions
    models. A full build of the same content covers it; a build of new content for one
    exposure leaves the others to be built when they are asked for.

    dbt's unit tests check the models' logic on fixed inputs, not the data: they run in the
    test suite (``unit_tests=True``), not in every production build.

    On Spark the landing zone is brought up to date first, and the published marts are
    copied into the warehouse file's ``marts`` schema after a good build.

    On DuckDB the row-level models only add the deliveries loaded since the last good build;
    when an earlier delivery changed (or the project did), they are made again from every
    row, and ``say`` is told why.

    ``child``: dbt's process started ahead (``DbtChild``), which runs the build if there is one.

    The fingerprint of each good build is kept in the warehouse itself (``main.cx311_build``),
    so a new or rebuilt warehouse is always built."""
    check_engine(engine)
    project, current = fingerprints(db_path, engine)
    scope = exposure or ALL
    with duckdb.connect(str(db_path)) as con:
        if up_to_date(con, scope, current):
            return False
        start_build(con, scope, current)
        why, rows_held = prepare_row_models(con, project) if engine == "duckdb" else (None, {})
    if why is not None and say is not None:
        say(f"  every row is processed again: {why}")
    command = ["build"] + ([] if unit_tests else ["--exclude-resource-type", "unit_test"])
    if exposure:
        command += ["--select", f"+exposure:{exposure}", "--indirect-selection", "cautious"]
    if engine == "spark":
        paths = spark_paths(db_path)
        landing_zone.export(db_path, paths["landing"])
        shutil.rmtree(paths["spark"], ignore_errors=True)  # Spark's own tables: rebuilt every time
        _clear_published(paths["marts"])
        run_dbt(command, db_path, work_dir, quiet=quiet, progress=progress, engine=engine, child=child)
        import_marts(db_path, paths["marts"])
    else:
        run_dbt(command, db_path, work_dir, quiet=quiet, progress=progress, rows_held=rows_held, child=child)
    with duckdb.connect(str(db_path)) as con:
        if engine == "duckdb":
            record_row_models(con, project)
        record_build(con, scope, current)
    return True
