"""``manifest.json``: what a set of outputs was made from, for clerks and audits.

Lists the city profile's settings the figures and words used, each input file (name, SHA-256,
rows), the software that made the set (the package
version, git commit, Python version and the dependency lock's digest) and each output (name,
SHA-256, and for a PDF its pages and ``layout_sha256``: the digest of everything it was laid
out from, ``pipeline.report.pdf.layout_key``, by which the next run reuses it). It holds no
time stamp, so the same inputs and code give the same manifest.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import pikepdf

from . import __version__
from .files import atomic_write, sha256
from .paths import PROJECT_DIR

LOCK_FILES = ("default.txt", "test.txt", "spark.txt")  # requirements/, made by `make lock`


def lock_digest() -> str | None:
    """SHA-256 over the dependency lock files (requirements/*.txt), in LOCK_FILES order: which
    exact packages the set was made with. None outside a checkout that has them."""
    h = hashlib.sha256()
    for name in LOCK_FILES:
        path = PROJECT_DIR / "requirements" / name
        if not path.is_file():
            return None
        h.update(path.read_bytes())
    return h.hexdigest()


def project_version() -> dict[str, str | None]:
    """The package version, the commit it runs from (in a git checkout), the Python version
    and the lock's digest."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"package": __version__, "git_commit": commit, "python": platform.python_version(),
            "lock_sha256": lock_digest()}


def describe_output(path: Path, layout: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": path.name, "sha256": sha256(path)}
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            entry["pages"] = len(pdf.pages)
        if layout is not None:
            entry["layout_sha256"] = layout
    return entry


def write_manifest(out_dir: Path, input_files: list[dict[str, Any]], outputs: list[Path],
                   settings: dict[str, Any], layouts: dict[str, str] | None = None) -> Path:
    """Write ``out_dir/manifest.json`` (atomically) describing ``outputs``, made with the city
    profile's ``settings``; ``layouts`` gives each PDF's layout key by file name."""
    layouts = layouts or {}
    manifest = {
        "version": project_version(),
        "settings": settings,
        "inputs": input_files,
        "outputs": [describe_output(p, layouts.get(p.name)) for p in sorted(outputs, key=lambda p: p.name)],
    }
    return atomic_write(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def published_outputs(folder: Path) -> dict[str, dict[str, Any]]:
    """The outputs a published set's ``manifest.json`` describes, by file name; {} when there
    is no readable manifest (nothing is then reused from the folder)."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
        return {o["name"]: o for o in manifest["outputs"] if isinstance(o, dict) and "name" in o}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
