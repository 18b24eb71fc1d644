"""The dependency lock: every package, transitive ones included, pinned with its hashes.

    python requirements/lock.py compile   # `make lock`: resolve pyproject.toml again (uv)
    python requirements/lock.py check     # `make install`, `make test`: is the lock current?

pyproject.toml declares the direct dependencies; the lock files say exactly what gets installed:

    requirements/default.txt   the pipeline (and setuptools, which installs it)
    requirements/test.txt      the above and the `test` extra: what `make install` installs
    requirements/spark.txt     the above and the `spark` extra: what ENGINE=spark adds

Each layer is resolved with the one before it as a constraint, so a package common to two
layers has one version. Each file's header records a digest of pyproject.toml's dependency
tables; `check` fails with one message when pyproject.toml changed since. Standard library
only, so the check runs before any virtual environment exists.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "pyproject.toml"
PYTHON_VERSION = "3.11"
# (lock file, extras it adds, the layer it is constrained by)
LAYERS = (("default", (), None), ("test", ("test",), "default"), ("spark", ("test", "spark"), "test"))
DIGEST_LINE = "# pyproject.toml dependency tables sha256: "
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.M)


class LockError(Exception):
    """The lock does not match pyproject.toml."""


def _project() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def digest(project: dict | None = None) -> str:
    """SHA-256 of what the lock is made from: requires-python, the build requirements, the
    dependencies and every extra (not the rest of pyproject.toml, so a lint setting does not
    stale the lock)."""
    project = project or _project()
    tables = {
        "requires-python": project["project"].get("requires-python"),
        "build-system": project["build-system"]["requires"],
        "dependencies": project["project"]["dependencies"],
        "optional-dependencies": project["project"].get("optional-dependencies", {}),
    }
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def lock_path(name: str) -> Path:
    return HERE / f"{name}.txt"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(project: dict, extras: tuple[str, ...]) -> dict[str, str]:
    """The direct dependencies a layer declares, {name: pinned version}."""
    specs = list(project["project"]["dependencies"])
    for extra in extras:
        specs += project["project"]["optional-dependencies"][extra]
    pins = {}
    for spec in specs:
        m = re.match(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)", spec)
        if m:
            pins[_norm(m.group(1))] = m.group(3)
    return pins


def problems() -> list[str]:
    """What makes the lock disagree with pyproject.toml (empty when it is current)."""
    project = _project()
    want = digest(project)
    found = []
    for name, extras, _ in LAYERS:
        path = lock_path(name)
        if not path.exists():
            found.append(f"{path.relative_to(HERE.parent)} is missing")
            continue
        text = path.read_text(encoding="utf-8")
        if f"{DIGEST_LINE}{want}" not in text:
            found.append(f"{path.relative_to(HERE.parent)} was made from another pyproject.toml")
        locked = {_norm(n): v for n, v in _PIN.findall(text)}
        for dep, version in sorted(_declared(project, extras).items()):
            if locked.get(dep) != version:
                found.append(f"pyproject.toml pins {dep}=={version}, "
                             f"{path.relative_to(HERE.parent)} has {locked.get(dep, 'nothing')}")
    return found


def check() -> None:
    found = problems()
    if found:
        raise LockError(
            "error: the dependency lock does not match pyproject.toml ("
            + "; ".join(found)
            + "). Run `make lock` to resolve it again, then commit pyproject.toml and requirements/ together."
        )


def _uv() -> list[str]:
    """uv, as pinned in the test extra, from this interpreter (installed on first use)."""
    try:
        import uv  # noqa: F401
    except ImportError:
        pin = next(s for s in _project()["project"]["optional-dependencies"]["test"] if s.startswith("uv=="))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", pin], check=True)
    return [sys.executable, "-m", "uv"]


def compile_locks() -> None:
    """Resolve every layer again (network: the package index) and write the lock files."""
    project = _project()
    header = (
        "# The dependency lock (requirements/lock.py): made by `make lock`, installed by `make install`.\n"
        f"{DIGEST_LINE}{digest(project)}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build-system.in"  # setuptools: `pip install -e .` without build isolation
        build.write_text("\n".join(project["build-system"]["requires"]) + "\n", encoding="utf-8")
        for name, extras, below in LAYERS:
            out = Path(tmp) / f"{name}.txt"
            cmd = [*_uv(), "pip", "compile", "--quiet", "--universal", "--python-version", PYTHON_VERSION,
                   "--generate-hashes", "--no-header", "--no-annotate", "--index-url", "https://pypi.org/simple",
                   str(PYPROJECT), str(build), "-o", str(out)]
            cmd += [a for extra in extras for a in ("--extra", extra)]
            if below:
                cmd += ["--constraint", str(lock_path(below))]
            subprocess.run(cmd, check=True, cwd=HERE.parent)
            body = out.read_text(encoding="utf-8").replace(str(tmp) + "/", "")
            lock_path(name).write_text(header + body, encoding="utf-8")
    check()


def main(argv: list[str]) -> int:
    try:
        if argv == ["compile"]:
            compile_locks()
        elif argv == ["check"]:
            check()
        else:
            print(__doc__.strip().splitlines()[0] + "\nusage: lock.py compile|check", file=sys.stderr)
            return 2
    except LockError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
