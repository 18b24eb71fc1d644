"""A blank ``bia`` of a service request filled from the coordinates: the BIA whose boundary
(the city profile's ``bia_boundaries``, by default ``<raw>/reference/bia_boundaries.geojson``,
property ``bia_name``) holds the point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .errors import file_error

MAP_TABLE = "_bia_map"  # temp table (latitude, longitude, bia)


@dataclass(frozen=True)
class Boundaries:
    """The BIA polygons in a spatial index, and each polygon's name."""

    tree: Any  # shapely.STRtree
    names: list[str]


def load_boundaries(path: Path | None) -> Boundaries | None:
    """The boundaries in ``path``; None without the file or without a named polygon."""
    if path is None or not path.is_file():
        return None
    import shapely

    geoms, names = _read_polygons(path)
    if not geoms:
        return None
    return Boundaries(shapely.STRtree(geoms), names)


def _read_polygons(path: Path) -> tuple[list[Any], list[str]]:
    from shapely.geometry import shape

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        geoms, names = [], []
        for feat in doc["features"]:
            name = (feat.get("properties") or {}).get("bia_name")
            if name and feat.get("geometry"):
                geoms.append(shape(feat["geometry"]))
                names.append(str(name))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise file_error(
            path, f"it is not a valid GeoJSON FeatureCollection of BIA polygons ({e})."
        ) from e
    return geoms, names


def create_map(con: duckdb.DuckDBPyConnection, boundaries: Boundaries, source: str) -> bool:
    """Temp table ``_bia_map`` (latitude, longitude, bia): the BIA whose boundary holds each
    point of a row of ``source`` with a blank ``bia`` (the first polygon when several do).
    False, and no table, when no such point is in a BIA."""
    import numpy as np
    import pyarrow as pa
    import shapely

    pts = con.execute(
        f"SELECT DISTINCT latitude, longitude FROM {source} WHERE bia IS NULL "
        "AND latitude IS NOT NULL AND longitude IS NOT NULL"
    ).fetchnumpy()
    lat = np.asarray(pts["latitude"], dtype="float64")
    lon = np.asarray(pts["longitude"], dtype="float64")
    if len(lat) == 0:
        return False
    idx_pt, idx_poly = boundaries.tree.query(shapely.points(lon, lat), predicate="intersects")
    if len(idx_pt) == 0:
        return False
    order = np.lexsort((idx_poly, idx_pt))
    idx_pt, idx_poly = idx_pt[order], idx_poly[order]
    first = np.unique(idx_pt, return_index=True)[1]
    sel_pt, sel_poly = idx_pt[first], idx_poly[first]
    mapping = pa.table(
        {
            "latitude": lat[sel_pt],
            "longitude": lon[sel_pt],
            "bia": pa.array([boundaries.names[i] for i in sel_poly], type=pa.string()),
        }
    )
    con.register("_bia_points", mapping)
    try:
        con.execute(f"CREATE TEMP TABLE {MAP_TABLE} AS SELECT * FROM _bia_points")
    finally:
        con.unregister("_bia_points")
    return True
