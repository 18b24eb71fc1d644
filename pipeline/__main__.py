"""``python -m pipeline``: the CLI, ended without Python's teardown.

Once the command has returned, its work is written and closed: each output by the code that
wrote it (atomically), each child process ended or set to die with this one
(``outputs.die_with_parent``). What Python would do next is free every module and object one
by one (DuckDB, PyArrow, Altair's schema, WeasyPrint, vl-convert's runtime): 0.25-0.4 s after
a report, for a process that is ending. So the process flushes its two streams and exits at
once with the command's status. An error that escapes ``main`` (a bug) ends as Python ends,
with its traceback.
"""

import os
import sys

from .cli import main

status = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
