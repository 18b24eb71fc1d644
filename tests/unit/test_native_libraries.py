"""WeasyPrint's libraries found with one reading of ldconfig's cache (native_libraries.py)."""

from __future__ import annotations

import ctypes.util
from pathlib import Path

from pipeline.report import native_libraries as nl

# a listing as `ldconfig -p` prints it (x86-64 and a 32-bit copy of the same library)
LISTING = b"""3 libs found in cache `/etc/ld.so.cache'
\tlibpango-1.0.so.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libpango-1.0.so.0
\tlibpango-1.0.so.0 (libc6) => /usr/lib/i386-linux-gnu/libpango-1.0.so.0
\tlibharfbuzz.so.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libharfbuzz.so.0
"""


def test_a_name_is_found_in_the_listing_as_cpython_finds_it(monkeypatch) -> None:
    monkeypatch.setattr(nl, "_abi", lambda: "libc6,x86-64")
    assert nl.in_cache("pango-1.0", LISTING) == "libpango-1.0.so.0"
    assert nl.in_cache("harfbuzz", LISTING) == "libharfbuzz.so.0"
    # WeasyPrint's other spellings: "lib" is added to the name, so these miss
    assert nl.in_cache("libpango-1.0-0", LISTING) is None
    assert nl.in_cache("pango-1.0-0", LISTING) is None
    assert nl.in_cache("harfbuzz-vector", LISTING) is None
    # only the machine's own ABI: the 32-bit line is not a match
    monkeypatch.setattr(nl, "_abi", lambda: "libc6,64bit")
    assert nl.in_cache("pango-1.0", LISTING) is None


def test_a_library_outside_the_cache_is_found_in_the_search_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "libfoo.so.1.2").write_bytes(b"")
    (tmp_path / "libfoobar.so.1").write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", f"/nonexistent:{tmp_path}")
    monkeypatch.delenv("LIBRARY_PATH", raising=False)
    assert nl.in_search_path("foo") == str(tmp_path / "libfoo.so.1.2")
    assert nl.in_search_path("fo") is None  # not a prefix match
    monkeypatch.setattr(nl, "ldconfig_cache", lambda: LISTING)
    assert nl.quick_find_library("foo", fallback=lambda name: "never asked") == str(tmp_path / "libfoo.so.1.2")
    assert nl.quick_find_library("bar", fallback=lambda name: "never asked") is None


def test_without_a_listing_cpythons_lookup_answers(monkeypatch) -> None:
    monkeypatch.setattr(nl, "ldconfig_cache", lambda: b"")
    assert nl.quick_find_library("pango-1.0", fallback=lambda name: f"asked {name}") == "asked pango-1.0"


def test_the_quick_lookup_agrees_with_cpythons_on_this_machine() -> None:
    # WeasyPrint 70's names for its libraries on every platform, and some the system surely has
    names = ["libgobject-2.0-0", "gobject-2.0-0", "gobject-2.0", "pango-1.0", "harfbuzz", "harfbuzz-subset",
             "harfbuzz-vector", "libharfbuzz-vector.so.0", "fontconfig", "pangoft2-1.0", "c", "m"]
    found = {name: nl.quick_find_library(name, fallback=ctypes.util.find_library) for name in names}
    assert found == {name: ctypes.util.find_library(name) for name in names}
    assert found["c"] is not None and found["pango-1.0"] is not None


def test_find_library_is_patched_only_inside_the_block() -> None:
    original = ctypes.util.find_library
    with nl.quick_lookup():
        assert ctypes.util.find_library is not original
    assert ctypes.util.find_library is original
