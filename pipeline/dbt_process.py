"""The dbt child process of ``transform.run_dbt``: ``python dbt_process.py <dbt arguments>``
runs that dbt command in this process and writes its events on stdout as dbt's own JSON log
lines (``--log-format json``), those at info level and above.

Run as a script, by path, with ``python -P`` (its own folder, this package's, must not come
first on sys.path: profile.py there would hide the standard library's, which dbt imports);
never imported by the pipeline: it needs dbt only, and the child runs in the output folder,
where the ``pipeline`` package need not be importable.

Why not the ``dbt`` command itself: dbt's JSON console logger serialises every event before
its level filter drops the debug ones (several per query, each with its SQL): about 1 s of
Python under the GIL in a cold build, time the nodes wait for. Here dbt's console logger is
off (``--log-level none``) and a callback serialises only the events that are shown. dbt's
log file (``DBT_LOG_LEVEL_FILE``) is dbt's own, as before.

With ``--no-write-json`` dbt leaves out manifest.json, which a build writes twice (after
the parse and at the end, 1.6 MB each: about 0.5 s); ``run_results.json``, which the bench
and the tests read, is still written, here, from dbt's result, as dbt writes it.

Started ahead (``transform.DbtChild``): ``python dbt_process.py --wait <project arguments>``
(``--vars``, ``--project-dir``, ``--profiles-dir``) imports dbt and parses the project with
those arguments, in a thread of low priority (``lower_priority``: the load beside it comes
first; in the cold SCALE=1 report about 0.25 s less in all, ``farm-bench`` 5 pairs). It is
``dbt parse``: dbt's parse state in ``DBT_TARGET_PATH`` is read and written as a build's
would be; the warehouse is not opened, the loader may hold it. Then it waits for one line on
stdin, the command, as JSON::

    {"args": ["build", ...], "project": ["--vars", ...], "env": {...}}

``args``: the dbt arguments without the project arguments; ``project``: the project arguments
as the build needs them now; ``env``: the whole environment of the build. It answers with one
line, ``{"parsed_ahead": true|false}``, then runs ``args + project`` in that environment as
above: with the manifest of its parse when ``project`` and ``env`` are what it parsed with
(``env`` may differ only in ``RUN_TIME_ONLY``, and only when the parse did not read it),
otherwise parsing again. The parse's events are shown only when its manifest is used. End of
stdin instead of a command (nothing to build): it exits 0 at once; the parent kills it anyway.

**Compiled Jinja kept between runs** (``keep_compiled_templates``, in the folder named by
``CX311_DBT_CODE_CACHE``): dbt compiles the Jinja of every node it runs and of every macro it
calls, in every process, from the same source each time (about 300 templates in a cold build
of the annual report's models: 0.85 s of Python under the GIL, which the nodes wait for;
0.06 s read back, ``py-spy --gil``). The
Python code Jinja makes of a source is kept, named by the SHA-256 of the source and of
everything else the code depends on (Python, Jinja and dbt versions, the environment's class,
extensions and syntax settings), and read back instead of compiled again. Jinja's own
bytecode cache does the same for templates read through a loader; dbt's are strings.

**No teardown** (``finish``): on DuckDB the process ends with ``os._exit`` once dbt's
database is closed (its checkpoint), its output flushed and dbt's log file closed. Python's
own teardown of dbt's modules and objects (the manifest, each node's context) took 0.6-0.8 s
after a cold build, and the parent, whose next step reads the marts, waited for it; dbt's exit
handler only drops its connection for that teardown to close. On Spark the process exits as
Python does: the session stops its JVM then.

**No garbage collection** on DuckDB: Python's cyclic garbage collector is off. dbt
holds its manifest, its parsed macros and every node's Jinja context (each a cycle: 589
macros bound to the context that holds them) in about 200,000 objects, which each of
Python's full collections went through: 1.2 s of collections in the process of a cold
report (``gc.callbacks``; 0.6 s in a build alone), during which dbt's threads wait. With the
collector off, the cold report's ``dbt build`` stage took 3.8-4.8 s (median 4.3 s) where it
took 4.2-6.4 s (median 4.85 s), six runs of each in turn; about 160,000 more objects are left
at the process's end (its garbage is bounded by the project, not by the data: DuckDB holds
the rows).

**dbt's events** (``build_events_directly``): their protobuf messages are made by the
messages' constructors where ``ParseDict`` made them field by field in Python.

Exit status as the ``dbt`` command's: 0 success, 1 a node failed, 2 dbt itself failed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.events.base_types import EventMsg

SHOWN = ("info", "warn", "error")
NO_WRITE_JSON = "--no-write-json"
WAIT = "--wait"
# What the environment of a build may change after a parse ahead, unless the parse read it:
# the ranks the row-level models hold, known only once the load is over (macros/engine.sql).
RUN_TIME_ONLY = ("CX311_ROWS_HELD",)
BACKGROUND_NICE = 10  # the parse ahead's priority: below the load's (the process's, 0)
CODE_CACHE_VAR = "CX311_DBT_CODE_CACHE"  # names the folder compiled Jinja is kept in (keep_compiled_templates)
# what, besides the source, the code Jinja compiles depends on (jinja2.Environment's settings)
SYNTAX = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
          "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
          "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized",
          "autoescape", "is_async")
_one_line_at_a_time = threading.Lock()  # dbt's threads fire events side by side


def show(msg: EventMsg) -> None:
    """One event as dbt's JSON logger writes it (dbt_common.events.logger._JsonLogger)."""
    if msg.info.level in SHOWN:
        from dbt_common.events.functions import env_scrubber, msg_to_dict
        from dbt_common.utils.encoding import ForgivingJSONEncoder

        line = env_scrubber(json.dumps(msg_to_dict(msg), sort_keys=True, cls=ForgivingJSONEncoder))
        with _one_line_at_a_time:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()  # the parent shows progress as each node finishes


def main(args: list[str], manifest: Manifest | None = None) -> int:
    build_events_directly()
    from dbt.cli.main import dbtRunner

    result = dbtRunner(manifest=manifest, callbacks=[show]).invoke([*args, "--log-level", "none"])
    if NO_WRITE_JSON in args and hasattr(result.result, "write"):
        result.result.write(os.path.join(os.environ["DBT_TARGET_PATH"], "run_results.json"))
    if result.success:
        return 0
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
        return 2
    return 1


def parse_then_wait(project: list[str]) -> int:
    """``--wait``: parse now, run the command that comes on stdin (see the module doc)."""
    parsed_env = dict(os.environ)
    events: list[EventMsg] = []
    ahead: dict[str, Manifest | None] = {"manifest": None}

    def parse() -> None:
        lower_priority()
        build_events_directly()
        from dbt.cli.main import dbtRunner
        from dbt.contracts.graph.manifest import Manifest

        parsed = dbtRunner(callbacks=[events.append]).invoke(["parse", *project, NO_WRITE_JSON, "--log-level", "none"])
        if parsed.success and isinstance(parsed.result, Manifest):
            ahead["manifest"] = parsed.result

    thread = threading.Thread(target=parse, name="dbt parse ahead", daemon=True)  # no command: exit at once
    thread.start()
    line = sys.stdin.readline()
    if not line:
        return 0
    thread.join()
    manifest = ahead["manifest"]
    command = json.loads(line)
    env: dict[str, str] = command["env"]
    use = manifest is not None and command["project"] == project and same_parse(parsed_env, env, manifest)
    sys.stdout.write(json.dumps({"parsed_ahead": use}) + "\n")
    sys.stdout.flush()
    os.environ.clear()
    os.environ.update(env)
    if not use:
        return main([*command["args"], *command["project"]])
    for event in events:
        show(event)
    return main([*command["args"], *project], manifest)


def build_events_directly() -> None:
    """dbt's events get their protobuf messages from ``event_message``, not ``ParseDict``.

    dbt makes every event (several per node: each query, its status, the node's start and
    end) from a dict of its fields with protobuf's ``json_format.ParseDict``, twice (the event,
    then its message with the time stamp and thread), field by field in Python: about 20% of
    dbt's Python under the GIL while a build runs its nodes (``py-spy --gil``); the nodes wait
    for it."""
    from dbt_common.events import base_types

    base_types.ParseDict = event_message


def event_message(values: dict[str, Any], message: Any) -> Any:
    """``ParseDict(values, message)``'s message, made by the message's constructor, in
    protobuf's C code, when it takes ``values`` as they are. Where it cannot (a field wants a
    conversion only ``ParseDict`` makes: an RFC 3339 time stamp other than the one of dbt's
    ``EventInfo``, set here as ``ParseDict`` sets it) it raises, and ``ParseDict`` makes the
    message; so it does for anything wrong, raising what dbt expects. In a cold build of the
    annual report's models 3,462 of 3,552 messages were made directly, each the same bytes as
    ``ParseDict``'s (``SerializeToString(deterministic=True)``); the 90 others fell back."""
    try:
        info = values.get("info") if len(values) == 1 else None
        if isinstance(info, dict) and isinstance(info.get("ts"), str):  # dbt's EventInfo
            made = type(message)(info={k: v for k, v in info.items() if k != "ts"})
            made.info.ts.FromJsonString(info["ts"])
            return made
        return type(message)(**values)
    except Exception:  # noqa: BLE001 - ParseDict converts it, or raises what dbt expects
        from google.protobuf.json_format import ParseDict

        return ParseDict(values, message)


def keep_compiled_templates(folder: Path) -> None:
    """Jinja's compile step, for every environment of this process, keeps the code it makes in
    ``folder`` and reads it back for the same source (see the module doc). Only sources
    compiled as they are (not ``raw``, not a parsed tree) are kept; an unreadable or stale file
    is compiled again and replaced."""
    from importlib.metadata import version

    import jinja2

    compile_ = jinja2.Environment.compile
    salt = f"{sys.version}\n{jinja2.__version__}\n{version('dbt-core')}\n{version('dbt-common')}\n"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only checkout only loses the speed-up
        return

    def compile_kept(env: jinja2.Environment, source: Any, name: str | None = None,
                     filename: str | None = None, raw: bool = False, defer_init: bool = False) -> Any:
        if raw or not isinstance(source, str) or callable(env.autoescape):
            return compile_(env, source, name, filename, raw, defer_init)
        settings = [getattr(env, attr, None) for attr in SYNTAX]
        kind = [type(env), env.code_generator_class, env.context_class, sorted(env.extensions)]
        about = repr([kind, settings, name, filename, defer_init])
        path = folder / hashlib.sha256(f"{salt}{about}\n{source}".encode()).hexdigest()
        try:
            return marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            code = compile_(env, source, name, filename, raw, defer_init)
            f = None
            try:
                with tempfile.NamedTemporaryFile(dir=folder, delete=False) as f:  # a reader never sees half a file
                    f.write(marshal.dumps(code))
                os.replace(f.name, path)
            except OSError:  # a full disk or a folder made read-only: compiled, not kept, no half file left
                if f is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(f.name)
            return code

    jinja2.Environment.compile = compile_kept  # type: ignore[method-assign]


def lower_priority() -> None:
    """This thread (the import and parse ahead) takes only the CPU the load leaves idle: its
    nice value is raised (Linux's is per thread; the build's threads, started later by the
    main thread, keep the process's). Elsewhere, nothing changes."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):
        pass


def same_parse(parsed: dict[str, str], now: dict[str, str], manifest: Manifest) -> bool:
    """Whether a parse in the environment ``parsed`` holds in ``now``: the same but for
    ``RUN_TIME_ONLY`` variables the parse did not read (dbt records those it read)."""
    read = set(manifest.env_vars)
    changed = {k for k in parsed.keys() | now.keys() if parsed.get(k) != now.get(k)}
    return all(k in RUN_TIME_ONLY and k not in read for k in changed)


def close_warehouse() -> None:
    """Close dbt-duckdb's database (its last connection: DuckDB writes its checkpoint), as
    dbt-duckdb's exit handler leaves it to Python's teardown to do."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")  # None: no build ran (dbt not imported yet)
    environment = getattr(getattr(connections, "DuckDBConnectionManager", None), "_ENV", None)
    if environment is not None:
        environment.close()


def on_duckdb() -> bool:
    """Whether dbt runs on DuckDB (``transform.dbt_env`` names the engine), not Spark."""
    return os.environ.get("CX311_ENGINE", "duckdb") == "duckdb"


def finish(code: int) -> NoReturn:
    """Exit with ``code``: on DuckDB without Python's teardown (see the module doc)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if not on_duckdb():
        sys.exit(code)  # Spark's session and its JVM stop as Python ends
    close_warehouse()
    logging.shutdown()  # dbt's log file, when DBT_LOG_LEVEL_FILE keeps one
    os._exit(code)


if __name__ == "__main__":
    if on_duckdb():
        gc.disable()  # see the module doc: "No garbage collection"
    if os.environ.get(CODE_CACHE_VAR) and not os.environ.get("DBT_MACRO_DEBUGGING"):  # dbt's debugging compiles its own way
        keep_compiled_templates(Path(os.environ[CODE_CACHE_VAR]))
    if sys.argv[1:2] == [WAIT]:
        finish(parse_then_wait(sys.argv[2:]))
    finish(main(sys.argv[1:]))
