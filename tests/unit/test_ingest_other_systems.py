"""Another system's extracts: mapped exports (raw/mapped/<name>.yaml) and Open311 GeoReport v2
request lists (raw/open311/*.json). Fixtures are written by hand from the GeoReport v2
specification and from a made-up city's export layout; each expected value is worked out in a
comment."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from pipeline.contract import non_extract_paths
from pipeline.ingest import LoadError, load
from pipeline.ingest.dry_run import check_extracts
from pipeline.mapping import MappingError
from tests.unit.test_ingest_support import q

UTC = dt.UTC

MAPPING = """\
entity: service_requests
files: ["springfield/*.csv"]
columns:
  sr_id: ServiceRequestNum
  created_at: CreatedDate
  closed_at: CloseDate
  due_at: DueDate
  status: SRStatus
  sr_type: SRType
  division: Agency
  channel: MethodReceived
constants:
  section: Streets
timestamps:
  formats: ["%m/%d/%Y %I:%M:%S %p"]
  timezone: America/New_York
values:
  status: {Closed: closed, Open: in_progress, New: initiated}
  channel: {Phone: phone, Internet: web}
"""
# A made-up city's export: two years in one file, its own time format and zone (New York),
# its own words for status and channel, and columns the contract does not have.
EXPORT = """\
ServiceRequestNum,SRType,MethodReceived,CreatedDate,SRStatus,DueDate,CloseDate,Agency,CouncilDistrict,Notes
S-1,Pothole,Phone,12/31/2023 11:30:00 PM,Closed,01/05/2024 11:30:00 PM,01/02/2024 09:00:00 AM,Transportation,5,call Jane
S-2,Pothole,Internet,11/03/2024 01:30:00 AM,Open,,,Transportation,5,
S-3,Graffiti,Phone,03/10/2024 02:30:00 AM,Open,,,Public Works,3,
S-4,Graffiti,Fax,07/16/2024 03:04:05 PM,Pending,,,Public Works,3,
S-5,Graffiti,Fax,07/16/2024 03:04:05 PM,Open,,,Public Works,3,
S-6,Graffiti,Phone,07/16/2024 15:04,Open,,,Public Works,3,
"""


def _mapped(raw: Path, mapping: str = MAPPING, export: str = EXPORT) -> Path:
    (raw / "mapped" / "springfield").mkdir(parents=True)
    (raw / "mapped" / "springfield.yaml").write_text(mapping, encoding="utf-8")
    path = raw / "mapped" / "springfield" / "sr_2023_2024.csv"
    path.write_text(export, encoding="utf-8")
    return path


def test_a_mapped_export_spanning_two_years_loads_as_contract_rows(raw_dir, db_path):
    _mapped(raw_dir)
    summary = load(raw_dir, db_path, max_reject_rate=1.0)
    rows = q(db_path, "SELECT sr_id, created_at, closed_at, due_at, status, channel, section, closed_at_available "
                      "FROM raw.service_requests ORDER BY sr_id")
    assert rows == [
        # 23:30 EST (UTC-5) on 31 December 2023 is 04:30 UTC on 1 January: a 2023 request in
        # Toronto's local time (23:30 EST there too); closed 09:00 EST on 2 January = 14:00 UTC
        ("S-1", dt.datetime(2024, 1, 1, 4, 30, tzinfo=UTC), dt.datetime(2024, 1, 2, 14, tzinfo=UTC),
         dt.datetime(2024, 1, 6, 4, 30, tzinfo=UTC), "closed", "phone", "Streets", True),
        # 01:30 on 3 November 2024, New York's autumn clock change: the first (EDT, UTC-4) one
        ("S-2", dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC), None, None, "in_progress", "web", "Streets", True),
    ]
    # S-3: 02:30 on 10 March 2024 does not exist in New York (the clocks jump from 2 to 3);
    # S-4: status Pending and S-5: channel Fax have no mapping; S-6 is in no listed format
    rejects = q(db_path, 'SELECT line, "column", reason FROM raw.rejects ORDER BY line')
    assert rejects == [(4, "created_at", "unparseable timestamp"), (5, "status", "unmapped value"),
                       (6, "channel", "unmapped value"), (7, "created_at", "unparseable timestamp")]
    # read 6 = loaded 2 + rejected 4 + collapsed 0
    assert q(db_path, "SELECT rows_read, rows_loaded, rows_rejected, duplicates_collapsed, file_format "
                      "FROM raw.load_audit") == [(6, 2, 4, 0, "mapped")]
    notes = [str(n) for n in summary.notes]
    file = "mapped/springfield/sr_2023_2024.csv"
    assert f"{file}: 2 column(s) not in the contract, ignored: 'CouncilDistrict', 'Notes'" in notes
    # S-4 (Fax and Pending) is rejected for its status, S-5 for its channel: both Fax rows are listed
    assert (f"{file}: values of MethodReceived (channel) with no mapping in mapped/springfield.yaml, "
            "rows rejected: 'Fax' (2)") in notes
    assert (f"{file}: values of SRStatus (status) with no mapping in mapped/springfield.yaml, "
            "rows rejected: 'Pending' (1)") in notes
    assert "call Jane" not in json.dumps(q(db_path, "SELECT * FROM raw.service_requests"), default=str)


def test_a_changed_mapping_reads_its_files_again(raw_dir, db_path):
    _mapped(raw_dir)
    load(raw_dir, db_path, max_reject_rate=1.0)
    # the analyst completes the vocabulary: Pending and Fax now map
    fixed = MAPPING.replace("New: initiated}", "New: initiated, Pending: in_progress}").replace(
        "Internet: web}", "Internet: web, Fax: other}")
    (raw_dir / "mapped" / "springfield.yaml").write_text(fixed, encoding="utf-8")
    summary = load(raw_dir, db_path, max_reject_rate=1.0)
    assert summary.files_loaded == ["mapped/springfield/sr_2023_2024.csv"]
    # S-4 (Pending, Fax) and S-5 (Fax) now load: 2 + 2 = 4; S-3 and S-6 stay rejected
    assert q(db_path, "SELECT sr_id, status, channel FROM raw.service_requests WHERE sr_id IN ('S-4', 'S-5') "
                      "ORDER BY 1") == [("S-4", "in_progress", "other"), ("S-5", "in_progress", "other")]
    assert q(db_path, "SELECT rows_loaded, rows_rejected FROM raw.load_audit") == [(4, 2)]


@pytest.mark.parametrize(("mapping", "message"), [
    (MAPPING.replace("entity:", "entitty:"), "mapped/springfield.yaml, line 1, key 'entitty': unknown key"),
    (MAPPING.replace("  sr_type: SRType\n", ""),
     "mapped/springfield.yaml, line 3, key 'columns': the required service_requests column(s) sr_type are not mapped"),
    (MAPPING.replace("  channel: MethodReceived\n", "  chanel: MethodReceived\n"),
     "line 11, key 'columns.chanel': 'chanel' is not a service_requests column"),
    (MAPPING.replace('["%m/%d/%Y %I:%M:%S %p"]', '["%m/%d/%Y %Q"]'),
     "line 15, key 'timestamps.formats': '%m/%d/%Y %Q' is not a timestamp format"),
    (MAPPING.replace("America/New_York", "America/Springfield"),
     "line 16, key 'timestamps.timezone': 'America/Springfield' is not a time zone"),
    (MAPPING.replace("Closed: closed", "Closed: done"),
     "line 18, key 'values.status.Closed': 'done' is not a contract status"),
    (MAPPING + "  sr_type: {Pothole: Road}\n",
     "line 20, key 'values.sr_type': values map a column onto the contract's words"),
    # the mapping's other checks: an entity that does not exist, a key given twice or missing,
    # files outside mapped/, a constant for a mapped column, a vocabulary for an unmapped column,
    # an unknown key under timestamps
    (MAPPING.replace("entity: service_requests", "entity: servicerequests"),
     "line 1, key 'entity': 'servicerequests' is not one of"),
    (MAPPING + "entity: interactions\n", "line 20, key 'entity': given twice"),
    (MAPPING.replace('files: ["springfield/*.csv"]\n', ""), "line 1, key 'files': is required"),
    (MAPPING.replace('"springfield/*.csv"', '"../springfield/*.csv"'),
     "line 2, key 'files': '../springfield/*.csv' must stay inside mapped/"),
    (MAPPING.replace("  section: Streets", "  division: Streets"),
     "line 13, key 'constants.division': is mapped from a column already"),
    (MAPPING.replace("  channel: MethodReceived\n", ""),
     "line 18, key 'values.channel': 'channel' is not mapped from a source column"),
    (MAPPING.replace("  timezone: America/New_York", "  zone: America/New_York"),
     "line 16, key 'timestamps.zone': unknown key (the keys are formats, timezone)"),
])
def test_a_mapping_wrong_in_itself_names_file_line_and_key_and_nothing_loads(raw_dir, db_path, mapping, message):
    _mapped(raw_dir, mapping)
    with pytest.raises(MappingError) as e:
        load(raw_dir, db_path)
    assert message in str(e.value)
    assert "Nothing was loaded" in str(e.value)
    assert not db_path.exists()  # the mapping is checked before the warehouse is opened


def test_a_file_two_mappings_cover_names_both_and_nothing_loads(raw_dir, db_path):
    _mapped(raw_dir)
    # a second mapping, read after the first (name order), covers the same export
    (raw_dir / "mapped" / "springfield_b.yaml").write_text(MAPPING.replace("springfield/*.csv",
                                                                           "springfield/sr_*.csv"), encoding="utf-8")
    with pytest.raises(MappingError) as e:
        load(raw_dir, db_path)
    assert ("mapped/springfield_b.yaml, line 2, key 'files': mapped/springfield/sr_2023_2024.csv is covered "
            "by mapped/springfield.yaml too") in str(e.value)
    assert not db_path.exists()


def test_a_source_column_the_file_lacks_names_the_mapping_and_nothing_loads(raw_dir, db_path, write_csv):
    write_csv("2024/service_requests_2024.csv", "sr_id,created_at,status,sr_type,division\nA,2024-01-01 10:00:00,New,T,D\n")
    _mapped(raw_dir, export=EXPORT.replace("MethodReceived", "Method"))
    with pytest.raises(MappingError) as e:
        load(raw_dir, db_path)
    assert ("mapped/springfield.yaml, line 11, key 'columns.channel': mapped/springfield/sr_2023_2024.csv "
            "has no column 'MethodReceived'") in str(e.value)
    # the other file of the same run did not load either: the run's one transaction was rolled back
    assert q(db_path, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw'") == [(0,)]


# ------------------------------------------------------------------------------ Open311

# GeoReport v2 GET requests.json: an array of requests. A number and a string id alike; the
# free-text fields (description, status_notes, address, media_url) must never be stored.
REQUESTS = [
    {"service_request_id": 638344, "status": "closed", "status_notes": "Duplicate of 638343, call 416-555-0100",
     "service_name": "Pot hole", "service_code": "006", "description": "Big hole outside 12 Elm St, Jane Roe",
     "agency_responsible": "Transportation Services", "service_notice": "", "requested_datetime":
     "2024-07-02T10:00:00-04:00", "updated_datetime": "2024-07-04T12:00:00-04:00",
     "expected_datetime": "2024-07-05T10:00:00-04:00", "address": "12 Elm St", "address_id": "545483",
     "zipcode": "M5V 2T6", "lat": 43.64, "long": -79.39, "media_url": "http://example.org/photo.jpg"},
    {"service_request_id": "638345", "status": "open", "service_name": "Graffiti", "agency_responsible": "",
     "requested_datetime": "2024-07-03T10:00:00-04:00", "updated_datetime": "2024-07-03T11:00:00-04:00",
     "zipcode": "90210", "lat": "43.65", "long": "-79.38"},
    {"status": "open", "service_name": "Graffiti", "requested_datetime": "2024-07-03T10:00:00-04:00"},
    {"service_request_id": "638346", "status": "open", "service_name": "Graffiti"},
]
PRIVATE = ("Jane Roe", "12 Elm St", "416-555-0100", "545483", "photo.jpg")


def _open311(raw: Path, name: str, body: object, gz: bool = False) -> Path:
    (raw / "open311").mkdir(exist_ok=True)
    data = json.dumps(body).encode("utf-8")
    path = raw / "open311" / (name + (".json.gz" if gz else ".json"))
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


@pytest.mark.parametrize("form", ["array", "object", "gzip object"])
def test_open311_requests_become_service_requests(raw_dir, db_path, form):
    body = REQUESTS if form == "array" else {"service_requests": REQUESTS}
    _open311(raw_dir, "toronto", body, gz=form.startswith("gzip"))
    summary = load(raw_dir, db_path, max_reject_rate=1.0)
    rows = q(db_path, "SELECT sr_id, created_at, closed_at, due_at, status, sr_type, division, fsa, latitude, "
                      "longitude, ward, _source_line FROM raw.service_requests ORDER BY sr_id")
    assert rows == [
        # closed: its last update (12:00 EDT = 16:00 UTC) stands for the closing time; the
        # point 43.64 N 79.39 W lies in ward 10 of the profile's boundaries
        ("638344", dt.datetime(2024, 7, 2, 14, tzinfo=UTC), dt.datetime(2024, 7, 4, 16, tzinfo=UTC),
         dt.datetime(2024, 7, 5, 14, tzinfo=UTC), "closed", "Pot hole", "Transportation Services", "M5V",
         43.64, -79.39, "Spadina-Fort York (10)", 1),
        # open: no closing time; a blank agency is Unknown; 90210 is not a Canadian postal code;
        # 43.65 N 79.38 W lies in ward 13
        ("638345", dt.datetime(2024, 7, 3, 14, tzinfo=UTC), None, None, "in_progress", "Graffiti", "Unknown",
         None, 43.65, -79.38, "Toronto Centre (13)", 2),
    ]
    # the 3rd request has no id, the 4th no requested_datetime: row problems
    assert q(db_path, 'SELECT line, "column", reason FROM raw.rejects ORDER BY line') == [
        (3, "sr_id", "required value missing"), (4, "created_at", "required value missing")]
    stored = json.dumps(q(db_path, "SELECT * FROM raw.service_requests"), default=str)
    assert [p for p in PRIVATE if p in stored] == []
    file = "open311/toronto.json" + (".gz" if form.startswith("gzip") else "")
    assert (f"{file}: closing times are the last update of each closed request (updated_datetime): "
            "GeoReport v2 records no closing time") in [str(n) for n in summary.notes]


def test_malformed_open311_json_is_a_file_error_naming_the_byte_offset(raw_dir, db_path):
    (raw_dir / "open311").mkdir()
    # the comma before ']' is at byte 30: [ {"service_request_id": "1"} , ]
    (raw_dir / "open311" / "bad.json").write_text('[{"service_request_id": "1"}, ]', encoding="utf-8")
    with pytest.raises(LoadError) as e:
        load(raw_dir, db_path)
    assert "open311/bad.json" in str(e.value) and "not valid JSON at byte 30" in str(e.value)
    (raw_dir / "open311" / "bad.json").write_text('{"requests": []}', encoding="utf-8")
    with pytest.raises(LoadError, match='an object whose "service_requests" member is that array'):
        load(raw_dir, db_path)


def test_a_request_repeated_across_two_feeds_is_kept_per_delivery_and_listed_as_repeated(raw_dir, db_path):
    import os

    first = _open311(raw_dir, "feed_1", [REQUESTS[1]])
    later = dict(REQUESTS[1], status="closed", updated_datetime="2024-07-05T09:00:00-04:00")
    second = _open311(raw_dir, "feed_2", {"service_requests": [later]})
    os.utime(first, (1_730_000_000, 1_730_000_000))  # October 2024
    os.utime(second, (1_730_000_100, 1_730_000_100))  # delivered later
    load(raw_dir, db_path)
    # both versions are kept in the landing table, each with its delivery; the repeated id is listed
    assert q(db_path, "SELECT sr_id, status, _delivery_rank FROM raw.service_requests ORDER BY 3") == [
        ("638345", "in_progress", 1), ("638345", "closed", 2)]
    assert q(db_path, "SELECT entity, id FROM raw.repeated_ids") == [("service_requests", "638345")]


def test_files_that_are_not_read_are_named_with_the_reason(raw_dir):
    _mapped(raw_dir)
    (raw_dir / "mapped" / "springfield" / "notes.txt").write_text("x", encoding="utf-8")
    (raw_dir / "mapped" / "other.csv").write_text("a\n1\n", encoding="utf-8")
    (raw_dir / "2018").mkdir()
    (raw_dir / "2018" / "feed.json").write_text("[]", encoding="utf-8")
    (raw_dir / "open311").mkdir()
    (raw_dir / "open311" / "feed.xml").write_text("<x/>", encoding="utf-8")
    assert dict(non_extract_paths(raw_dir)) == {
        "2018/feed.json": "a JSON file is read only in open311/ (an Open311 GeoReport v2 request list) "
                          "or through a mapping in mapped/",
        "mapped/other.csv": "no mapping in mapped/ covers it: add its name or a glob to a mapping's `files` "
                            "(docs/bring-your-own-extracts.md)",
        "mapped/springfield/notes.txt": "no mapping in mapped/ covers it: add its name or a glob to a mapping's "
                                        "`files` (docs/bring-your-own-extracts.md)",
        "open311/feed.xml": "open311/ reads only Open311 GeoReport v2 .json and .json.gz files",
    }


def test_the_dry_run_reads_as_the_load_would_and_writes_nothing(raw_dir):
    _mapped(raw_dir)
    _open311(raw_dir, "toronto", REQUESTS)
    before = sorted(p.relative_to(raw_dir) for p in raw_dir.rglob("*"))
    found = check_extracts(raw_dir, sample=1)
    assert sorted(p.relative_to(raw_dir) for p in raw_dir.rglob("*")) == before
    by_file = {f.file: f for f in found.files}
    mapped = by_file["mapped/springfield/sr_2023_2024.csv"]
    # 6 rows: 2 loaded, 4 rejected (see the first test)
    assert (mapped.rows_read, mapped.rows_loaded, mapped.rows_rejected) == (6, 2, 4)
    assert mapped.first_rows[0]["sr_id"] == "S-1" and mapped.first_rows[0]["section"] == "Streets"
    assert (by_file["open311/toronto.json"].rows_read, by_file["open311/toronto.json"].rows_loaded) == (4, 2)
    assert ("mapped/springfield/sr_2023_2024.csv", "created_at", "unparseable timestamp", 2) in found.rejects
    # S-1 is a 2023 request in local time (23:30 on 31 December); S-2 and the Open311 ones 2024
    assert found.years == {"service_requests": [2023, 2024]}
