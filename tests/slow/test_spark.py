"""The Spark engine gives the same figures as DuckDB (make test-all; needs the spark extra and Java).

One fixture of about 80,000 rows, with each of two city profiles (Toronto's, and Vancouver's
time zone, holidays and standards): the demo data set at 1/100 of Toronto's volume, plus later
deliveries that repeat ids across files (an SR cancelled, an interaction's channel changed)
and within a file, and rows at the edges: local dates across the DST changes and across New
Year in UTC, business days around Canada Day and Christmas, BIA names spelled loosely or not
matching, ward spellings, fractional seconds. It is loaded once, then built once on each
engine (one `dbt build` each, dbt's unit tests included: one Spark session for the module),
and every mart must be equal row for row (floats within 1e-9), and key_metrics.json and the
BIA figures (bia_metrics.json) equal.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from importlib.util import find_spec
from pathlib import Path

import duckdb
import pytest

from pipeline.bia.batch import month_data
from pipeline.cli import main
from pipeline.contract import DEMO_MARKER
from pipeline.demo import generate
from pipeline.ingest import load, load_service_standards
from pipeline.metrics import key_metrics, write_key_metrics
from pipeline.transform import build
from pipeline.warehouse import connect
from tests.support.profiles import VANCOUVER

YEAR = 2024
BIA_MONTHS = ("2023-03", "2023-11", "2024-01", "2024-07", "2024-12")

if find_spec("pyspark") is None or shutil.which("java") is None:  # never skipped: make test-all installs it
    raise RuntimeError("the Spark parity test needs the spark extra's lock (make test-all installs requirements/spark.txt) "
                       "and Java 17 (`apt-get install openjdk-17-jre-headless`; .ci/run installs it)")


SR_EDGES = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward,bia
EDGE-DST-SPRING-A,2024-03-10T06:59:59Z,2024-03-11T07:00:00.25Z,Closed,Road - Pot hole,Transportation Services,Road Operations,2,bloor  west village
EDGE-DST-SPRING-B,2024-03-10T07:00:00Z,2024-03-12T07:00:00Z,Closed,Road - Pot hole,Transportation Services,Road Operations,02,BLOOR WEST VILLAGE BIA
EDGE-DST-FALL-A,2024-11-03T05:30:00Z,2024-11-05T06:30:00.5Z,Closed,Injured Wildlife,Municipal Licensing & Standards,Toronto Animal Services,Etobicoke Centre (02),
EDGE-DST-FALL-B,2024-11-03T06:30:00Z,,In Progress,Injured Wildlife,Municipal Licensing & Standards,Toronto Animal Services,Etobicoke Centre,Nowhere BIA
EDGE-NYE-UTC,2025-01-01T04:30:00+00:00,2025-01-02T04:30:00+00:00,Closed,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement,Ward X,
EDGE-NY-2023,2024-01-01T03:00:00Z,2024-01-03T15:00:00.999999Z,Closed,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement,99,
EDGE-CANADA-DAY,2024-06-28T09:00:00-04:00,2024-07-03T16:00:00-04:00,Closed,Residential Bin Lid Damaged,Solid Waste Management Services,Collections,3,Cabbagetown BIA
EDGE-CANADA-DAY-LATE,2024-06-28T09:00:00-04:00,2024-07-04T08:00:00-04:00,Closed,Road - Pot hole,Transportation Services,Road Operations,3,cabbagetown
EDGE-XMAS,2024-12-24T10:00:00-05:00,2024-12-30T10:00:00-05:00,Closed,Residential Bin Lid Damaged,Solid Waste Management Services,Collections,4,
EDGE-XMAS-CANCELLED,2024-12-24T10:00:00-05:00,,Cancelled,Road - Pot hole,Transportation Services,Road Operations,4,
"""

INTERACTION_EDGES = """\
interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,handle_seconds,transferred,responded_at,sr_id,language
EDGE-I-NYE,2025-01-01T04:30:00+00:00,web,general_inquiry,Property Tax Billing,,,,,,,en
EDGE-I-NY-2023,2024-01-01T03:00:00Z,phone,general_inquiry,Property Tax Billing,answered,75,300,N,,,en
EDGE-I-EMAIL-DST,2024-11-02T12:00:00-04:00,email,general_inquiry,Vacant Home Tax,,,,,2024-11-04T11:00:00-05:00,,en
EDGE-I-EMAIL-LATE,2024-03-09T12:00:00-05:00,email,general_inquiry,Vacant Home Tax,,,,,2024-03-11T12:00:00.5-04:00,,fr
EDGE-I-75,2024-03-10T06:59:59Z,phone,general_inquiry,Property Tax Billing,answered,75,120,N,,,en
EDGE-I-76,2024-03-10T07:00:00Z,phone,general_inquiry,Property Tax Billing,answered,76,120,Y,,,en
EDGE-I-4,2024-11-03T05:30:00Z,phone,status_update,,abandoned,4,,,,,en
EDGE-I-5,2024-11-03T06:30:00Z,phone,status_update,,abandoned,5,,,,,en
"""


MAPPING = """\
entity: service_requests
files: ["springfield/*.csv"]
columns: {sr_id: Num, created_at: Created, closed_at: Closed, due_at: Due, status: Status, sr_type: Type,
          division: Agency, ward: District}
timestamps: {formats: ["%m/%d/%Y %I:%M:%S %p"], timezone: America/New_York}
values:
  status: {Closed: closed, Open: in_progress}
"""
MAPPED_EXPORT = """\
Num,Type,Created,Status,Due,Closed,Agency,District
M-1,Road - Pot hole,07/02/2024 09:00:00 AM,Closed,07/03/2024 09:00:00 AM,07/03/2024 08:59:59 AM,Transportation Services,2
M-2,Road - Pot hole,07/02/2024 09:00:00 AM,Closed,07/03/2024 09:00:00 AM,07/03/2024 09:00:01 AM,Transportation Services,2
M-3,Graffiti,11/03/2024 01:30:00 AM,Open,,,Transportation Services,3
"""
OPEN311 = [
    {"service_request_id": 9001, "status": "closed", "service_name": "Injured Wildlife",
     "agency_responsible": "Municipal Licensing & Standards", "requested_datetime": "2024-12-31T23:30:00-05:00",
     "updated_datetime": "2025-01-02T10:00:00-05:00", "expected_datetime": "2025-01-01T23:30:00-05:00",
     "lat": 43.65, "long": -79.40, "zipcode": "M5T 1R5", "description": "never stored"},
    {"service_request_id": "9002", "status": "open", "service_name": "Graffiti", "agency_responsible": "",
     "requested_datetime": "2024-03-10T02:30:00-05:00"},
]


def write_later_deliveries(raw: Path) -> None:
    """Files delivered after the demo files: ids repeated across files (300 SRs with a BIA
    cancelled, 300 phone interactions now e-mails) and within one (200 SRs closed twice: the
    later line wins), and the edge rows above (timestamps with offsets and fractions)."""
    sr24 = raw / "2024" / "service_requests_2024.parquet"
    ix24 = raw / "2024" / "interactions_2024.parquet"
    with duckdb.connect() as con:
        con.execute(f"""
            COPY (
                (SELECT * REPLACE ('cancelled' AS status, NULL::TIMESTAMP AS closed_at)
                 FROM '{sr24}' WHERE bia IS NOT NULL ORDER BY sr_id LIMIT 300)
                UNION ALL
                (SELECT * REPLACE ('closed' AS status, created_at + INTERVAL 30 DAY AS closed_at)
                 FROM '{sr24}' WHERE status <> 'closed' ORDER BY sr_id LIMIT 200)
                UNION ALL
                (SELECT * REPLACE ('closed' AS status, created_at + INTERVAL 40 DAY AS closed_at)
                 FROM '{sr24}' WHERE status <> 'closed' ORDER BY sr_id LIMIT 200)
            ) TO '{raw / "2024" / "service_requests_2024_redelivered.parquet"}' (FORMAT parquet)""")
        con.execute(f"""
            COPY (SELECT * REPLACE ('email' AS channel, started_at + INTERVAL 47 HOUR AS responded_at)
                  FROM '{ix24}' WHERE channel = 'phone' ORDER BY interaction_id LIMIT 300)
            TO '{raw / "2024" / "interactions_2024_redelivered.parquet"}' (FORMAT parquet)""")
    (raw / "2024" / "service_requests_2024_edges.csv").write_text(SR_EDGES, encoding="utf-8")
    # another system's export through a mapping (its own time format and zone, vocabulary and
    # due dates) and an Open311 feed: both engines read the same contract rows from them
    (raw / "mapped" / "springfield").mkdir(parents=True)
    (raw / "mapped" / "springfield.yaml").write_text(MAPPING, encoding="utf-8")
    (raw / "mapped" / "springfield" / "export.csv").write_text(MAPPED_EXPORT, encoding="utf-8")
    (raw / "open311").mkdir()
    (raw / "open311" / "feed.json").write_text(json.dumps({"service_requests": OPEN311}), encoding="utf-8")
    (raw / "2024" / "interactions_2024_edges.csv").write_text(INTERACTION_EDGES, encoding="utf-8")
    later = max(p.stat().st_mtime for p in raw.rglob("*.parquet")) + 60
    for path in (raw / "2024").iterdir():
        if "edges" in path.name or "redelivered" in path.name:
            os.utime(path, (later, later))


# Both engines count in the city profile's time zone: Toronto's (the shipped profile), and a
# second profile's, Vancouver's, with British Columbia's holidays and other standards.
TORONTO = "America/Toronto"
SECOND_PROFILE = VANCOUVER  # tests/support/profiles.py


@pytest.fixture(scope="module", params=[TORONTO, "America/Vancouver"])
def engines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{engine: output folder}, each built once from the same raw folder, dbt's unit tests
    included (with Toronto's profile: their expectations are Toronto's local times)."""
    raw = tmp_path_factory.mktemp("raw")
    generate(raw, scale=0.01, seed=311)
    (raw / DEMO_MARKER).unlink()  # ordinary extracts now: later deliveries may join them
    write_later_deliveries(raw)
    if request.param != TORONTO:
        (raw / "reference").mkdir(exist_ok=True)
        (raw / "reference" / "city.yaml").write_text(SECOND_PROFILE, encoding="utf-8")
    outputs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path_factory.mktemp(engine)
        db = out / "warehouse.duckdb"
        load(raw, db, 0.01)
        with connect(db) as con:
            load_service_standards(raw, con)
        assert build(db, out, unit_tests=request.param == TORONTO, engine=engine)
        # the command line's --engine: loaded and built already, so nothing runs again (the
        # other engine would rebuild: its fingerprint differs)
        results = out / "dbt_target" / "run_results.json"
        mtime = results.stat().st_mtime_ns
        assert main(["--quiet", "load", "--raw", str(raw), "--output", str(out), "--engine", engine]) == 0
        assert main(["--quiet", "bia", "--month", "2024-07", "--raw", str(raw), "--output", str(out),
                     "--engine", engine, "--bia", "Bloor West Village BIA", "--bia", "Cabbagetown BIA"]) == 0
        assert results.stat().st_mtime_ns == mtime  # dbt did not run again
        write_key_metrics(key_metrics(db, YEAR), out)  # what `report` writes, without the documents
        outputs[engine] = out
    return outputs


def marts(db: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        found = {}
        for name in names:
            cursor = con.execute(f"SELECT * FROM marts.{name}")
            columns = [d[0] for d in cursor.description]
            found[name] = (columns, sorted(cursor.fetchall(), key=_sort_key))
        return found


def _sort_key(row: tuple) -> tuple:
    return tuple((v is not None, f"{v:.6e}" if isinstance(v, float) else str(v)) for v in row)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_both_engines_counted_in_the_profiles_time_zone(engines: dict[str, Path], request) -> None:
    tz = request.node.callspec.params["engines"]
    for engine in ("duckdb", "spark"):
        settings = json.loads((engines[engine] / "key_metrics.json").read_text())["settings"]
        assert settings["timezone"] == tz, engine
        assert settings["phone_service_level_seconds"] == (75 if tz == TORONTO else 60), engine


def test_the_fixture_has_its_edges(engines: dict[str, Path]) -> None:
    with duckdb.connect(str(engines["duckdb"] / "warehouse.duckdb"), read_only=True) as con:
        rows = sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
                   for t in ("interactions", "service_requests", "kb_views"))
        repeated = con.execute("SELECT count(*) FROM raw.repeated_ids").fetchone()[0]
        unmatched = con.execute("SELECT count(*) FROM marts.mart_bia_unmatched_names").fetchone()[0]
        other = con.execute("SELECT _source_file, count(*), count(due_at) FROM raw.service_requests "
                            "WHERE _source_file LIKE 'mapped/%' OR _source_file LIKE 'open311/%' "
                            "GROUP BY 1 ORDER BY 1").fetchall()
    # the mapped export's 3 rows (2 with a due date) load; of the Open311 feed, 9002's local
    # 02:30 on 10 March is given with an offset (-05:00), so it is an instant: both load
    assert other == [("mapped/springfield/export.csv", 3, 2), ("open311/feed.json", 2, 1)]
    assert rows >= 20_000
    assert repeated >= 700
    assert unmatched >= 1


def test_every_mart_is_the_same_on_both_engines(engines: dict[str, Path]) -> None:
    duck, spark = (marts(engines[e] / "warehouse.duckdb") for e in ("duckdb", "spark"))
    assert sorted(spark) == sorted(duck)
    differences = []
    for name, (columns, rows) in duck.items():
        spark_columns, spark_rows = spark[name]
        assert spark_columns == columns, name
        assert len(spark_rows) == len(rows), name
        for a, b in zip(rows, spark_rows, strict=True):
            if not all(_same(x, y) for x, y in zip(a, b, strict=True)):
                differences.append(f"{name}: {a} (DuckDB) != {b} (Spark)")
    assert differences[:10] == []


def test_key_metrics_are_the_same(engines: dict[str, Path]) -> None:
    duck, spark = (json.loads((engines[e] / "key_metrics.json").read_text()) for e in ("duckdb", "spark"))
    assert spark == duck


def test_bia_figures_are_the_same(engines: dict[str, Path]) -> None:
    duck, spark = (json.loads((engines[e] / "bia" / "2024-07" / "bia_metrics.json").read_text())
                   for e in ("duckdb", "spark"))
    assert spark == duck
    for month in BIA_MONTHS:
        duck, spark = (month_data(engines[e] / "warehouse.duckdb", month).records for e in ("duckdb", "spark"))
        assert spark == duck, month


def test_spark_read_the_landing_zone_and_published_the_marts(engines: dict[str, Path]) -> None:
    landing = engines["spark"] / "warehouse" / "landing"
    assert sorted(p.name for p in (landing / "service_requests").iterdir()) == sorted(
        [p.name for p in (landing / "service_requests").iterdir() if p.suffix == ".parquet"])
    # one per source file: the year files, the edges, the mapped export and the Open311 feed
    assert len(list((landing / "service_requests").glob("*.parquet"))) == 6
    with duckdb.connect(str(engines["spark"] / "warehouse.duckdb"), read_only=True) as con:
        schemas = {s for (s,) in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert "intermediate" not in schemas  # the models ran on Spark, not in the warehouse file
