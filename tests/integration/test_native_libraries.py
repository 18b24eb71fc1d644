"""WeasyPrint imported through pipeline/report/native_libraries.py, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_weasyprint_runs_one_process_not_one_per_name() -> None:
    # a fresh interpreter counts the processes it starts while it imports WeasyPrint: ldconfig
    # once (CPython's own lookup starts ldconfig, gcc, its linker and ld for each missed name)
    code = ("import subprocess, sys\n"
            "n = 0\n"
            "def hook(event, args):\n"
            "    global n\n"
            "    if event == 'subprocess.Popen': n += 1\n"
            "sys.addaudithook(hook)\n"
            "from pipeline.report.native_libraries import import_weasyprint\n"
            "import_weasyprint()\n"
            "import weasyprint.text.ffi as ffi\n"
            "print(n, ffi.pango is not None)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out == ["1", "True"]
