"""WeasyPrint imported with one look at the system's library cache, not one per name it tries.

Public interface::

    weasyprint = import_weasyprint()   # the module (imported once per process)

WeasyPrint finds Pango, HarfBuzz, fontconfig… by trying each library's names for every
platform in turn (``weasyprint/text/ffi.py``: 23 names for 8 libraries, of which 15 miss on
Linux, and ``harfbuzz-vector``, optional, misses all six where it is not installed). cffi
looks each name up with ``ctypes.util.find_library``, which on Linux runs ``ldconfig -p``, then
``gcc`` (and its linker), then ``ld`` for every name it does not find: 54 processes and
0.16 s of CPU of every import (0.60 s where 0.44 s is left, ``farm-bench`` 8 pairs), paid
again by each PDF worker.

While WeasyPrint is imported, ``find_library`` answers from one reading of ``ldconfig -p``
with CPython's own pattern, then from the folders ``gcc`` and ``ld`` would search beyond the
cache (``LIBRARY_PATH``, ``LD_LIBRARY_PATH``). Where that reading gives nothing (no
``ldconfig``, as on musl systems), CPython's lookup is used unchanged. Written here because no
library offers it: the lookup is CPython's, and only its process spawning is what costs.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

# CPython's ctypes.util: the ABI tag ldconfig prints for this machine's libraries
_ABI = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


@functools.cache
def ldconfig_cache() -> bytes:
    """``ldconfig -p``'s listing (b"" when it cannot be run), read once per process."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        return subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, env=env, check=False).stdout
    except OSError:
        return b""


def _abi() -> str:
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    return _ABI.get(machine, "libc6")


def in_cache(name: str, listing: bytes) -> str | None:
    """The soname ``listing`` (``ldconfig -p``) gives ``name``, as CPython's
    ``_findSoname_ldconfig`` finds it, or None."""
    pattern = os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({re.escape(_abi())}")
    found = re.search(pattern, listing)
    return os.fsdecode(found.group(1)) if found else None


def in_search_path(name: str) -> str | None:
    """A ``lib<name>.so…`` file in ``LIBRARY_PATH`` or ``LD_LIBRARY_PATH`` (the folders ``gcc``
    and ``ld`` add to the cache), as a path, or None."""
    for variable in ("LIBRARY_PATH", "LD_LIBRARY_PATH"):
        for folder in filter(None, os.environ.get(variable, "").split(os.pathsep)):
            with contextlib.suppress(OSError):
                hits = sorted(p for p in Path(folder).iterdir() if re.fullmatch(rf"lib{re.escape(name)}\.so(\.[0-9.]+)?", p.name))
                if hits:
                    return str(hits[0])
    return None


def quick_find_library(name: str, fallback: Callable[[str], str | None]) -> str | None:
    """``find_library(name)`` from the cached listing; ``fallback`` (CPython's) without one."""
    listing = ldconfig_cache()
    if not listing:
        return fallback(name)
    return in_cache(name, listing) or in_search_path(name)


@contextlib.contextmanager
def quick_lookup() -> Iterator[None]:
    """``ctypes.util.find_library`` is ``quick_find_library`` inside the block (Linux only)."""
    original = ctypes.util.find_library
    if not sys.platform.startswith("linux"):
        yield
        return
    ctypes.util.find_library = functools.partial(quick_find_library, fallback=original)
    try:
        yield
    finally:
        ctypes.util.find_library = original


def import_weasyprint() -> ModuleType:
    """WeasyPrint, imported as the module doc says; once imported, the module as it is (the
    lookup is not patched again)."""
    if "weasyprint" not in sys.modules:
        with quick_lookup():
            import weasyprint  # noqa: F401
    return sys.modules["weasyprint"]
