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

Exit status as the ``dbt`` command's: 0 success, 1 a node failed, 2 dbt itself failed.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from dbt.cli.main import dbtRunner
from dbt_common.events.base_types import EventMsg
from dbt_common.events.functions import env_scrubber, msg_to_dict
from dbt_common.utils.encoding import ForgivingJSONEncoder

SHOWN = ("info", "warn", "error")
NO_WRITE_JSON = "--no-write-json"
_one_line_at_a_time = threading.Lock()  # dbt's threads fire events side by side


def show(msg: EventMsg) -> None:
    """One event as dbt's JSON logger writes it (dbt_common.events.logger._JsonLogger)."""
    if msg.info.level in SHOWN:
        line = env_scrubber(json.dumps(msg_to_dict(msg), sort_keys=True, cls=ForgivingJSONEncoder))
        with _one_line_at_a_time:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()  # the parent shows progress as each node finishes


def main(args: list[str]) -> int:
    result = dbtRunner(callbacks=[show]).invoke([*args, "--log-level", "none"])
    if NO_WRITE_JSON in args and hasattr(result.result, "write"):
        result.result.write(os.path.join(os.environ["DBT_TARGET_PATH"], "run_results.json"))
    if result.success:
        return 0
    if result.exception is not None:
        print(f"dbt failed: {result.exception}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
