"""Run the dbt project against a warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .paths import DBT_DIR


class TransformError(Exception):
    """dbt failed; the message holds the end of its output."""


def dbt_env(db_path: Path, work_dir: Path) -> dict[str, str]:
    """Environment for a dbt run: the warehouse path and where dbt writes its own files."""
    env = dict(os.environ)
    env["CX311_DB"] = str(Path(db_path).resolve())
    env["DBT_TARGET_PATH"] = str((Path(work_dir) / "dbt_target").resolve())
    env["DBT_LOG_PATH"] = str((Path(work_dir) / "dbt_logs").resolve())
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DBT_USE_COLORS"] = "false"
    env.setdefault("DBT_PARTIAL_PARSE", "true")
    return env


def run_dbt(command: list[str], db_path: Path, work_dir: Path, quiet: bool = True) -> str:
    """Run ``dbt <command>`` on the project and return its output; raise on failure."""
    dbt = Path(sys.executable).with_name("dbt")
    args = [str(dbt), *command, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    result = subprocess.run(args, env=dbt_env(db_path, work_dir), capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-40:])
        raise TransformError(f"dbt {' '.join(command)} failed (exit {result.returncode}):\n{tail}")
    if not quiet:
        print(output, end="")
    return output


def build(db_path: Path, work_dir: Path, quiet: bool = True) -> str:
    """Seed, run and test every model (``dbt build``)."""
    return run_dbt(["build"], db_path, work_dir, quiet=quiet)
