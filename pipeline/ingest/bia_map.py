"""A blank ``bia`` or ``ward`` of a service request filled from the coordinates: the BIA whose
boundary (the city profile's ``bia_boundaries``, by default
``<raw>/reference/bia_boundaries.geojson``, property ``bia_name``) holds the point, and the
ward whose boundary (the city profile's ``wards.boundaries``, properties ``ward_number`` and
``ward_name``) holds it, as "Ward Name (NN)".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .errors import file_error

MAP_TABLE = "_{column}_map"  # temp table (latitude, longitude, <column>)


@dataclass(frozen=True)
class Boundaries:
    """Polygons in a spatial index, each polygon's name, and the column they fill."""

    tree: Any  # shapely.STRtree
    names: list[str]
    column: str = "bia"

    @property
    def table(self) -> str:
        return MAP_TABLE.format(column=self.column)


def ward_boundaries(path: Path | None) -> Boundaries | None:
    """The city profile's ward polygons (checked by the profile), named "Ward Name (NN)"."""
    if path is None or not path.is_file():
        return None
    import shapely
    from shapely.geometry import shape

    doc = json.loads(path.read_text(encoding="utf-8-sig"))
    geoms, names = [], []
    for feat in doc["features"]:
        props = feat.get("properties") or {}
        if feat.get("geometry"):
            geoms.append(shape(feat["geometry"]))
            names.append(f"{props['ward_name']} ({int(props['ward_number']):02d})")
    return Boundaries(shapely.STRtree(geoms), names, "ward") if geoms else None


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
    """Temp table ``_<column>_map`` (latitude, longitude, <column>): the polygon that holds each
    point of a row of ``source`` with a blank ``<column>`` (the first polygon when several do).
    False, and no table, when no such point is in a polygon."""
    column = boundaries.column
    import numpy as np
    import pyarrow as pa
    import shapely

    pts = con.execute(
        f"SELECT DISTINCT latitude, longitude FROM {source} WHERE {column} IS NULL "
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
            column: pa.array([boundaries.names[i] for i in sel_poly], type=pa.string()),
        }
    )
    con.register("_map_points", mapping)
    try:
        con.execute(f"CREATE TEMP TABLE {boundaries.table} AS SELECT * FROM _map_points")
    finally:
        con.unregister("_map_points")
    return True
