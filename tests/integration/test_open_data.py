"""An extract in the City's Open Data format: SR figures, and "not available in this extract"
(never 0) wherever a closing time is needed."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import main

OPEN_DATA = """\
Creation Date,Status,First 3 Chars of Postal Code,Intersection Street 1,Intersection Street 2,Ward,Service Request Type,Division,Section
2024-01-02 08:15:00.0000000,Closed,M6H,Dundas St W,Ossington Ave,Davenport (09),General Pruning,Urban Forestry,Tree Maintenance
2024-01-03 09:00:00.0000000,Completed,M6H,,,Davenport (09),General Pruning,Urban Forestry,Tree Maintenance
2024-02-03 10:30:00.0000000,New,M4C,,,Beaches-East York (19),Road - Pot hole,Transportation Services,Road Operations
2024-03-04 11:45:00.0000000,Cancelled,M4C,,,19,Road - Pot hole,Transportation Services,Road Operations
2024-04-05 12:00:00.0000000,Unknown,,,,,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement
"""


def surge_rows() -> str:
    """28 quiet days in June 2024 (1 SR a day), then 120 SRs on 29 June: a surge day
    (120 >= 2 x median 1 and >= 100). Its types: 60 Sewer, 40 Catch Basin, 15 Tree, 5 Noise."""
    rows = [
        f"2024-06-{day:02d} 09:00:00.0000000,Closed,M6H,,,9,Graffiti,Transportation Services,Road Operations"
        for day in range(1, 29)
    ]
    for sr_type, n in (
        ("Sewer Service Line-Blocked", 60),
        ("Catch Basin - Blocked / Flooding", 40),
        ("Tree Emergency Clean-Up", 15),
        ("Noise", 5),
    ):
        rows += [f"2024-06-29 13:00:00.0000000,Closed,M6H,,,9,{sr_type},Toronto Water,District Ops"] * n
    return "\n".join(rows) + "\n"


def test_open_data_extract_reports_sr_figures_and_marks_closing_figures_unavailable(tmp_path: Path) -> None:
    raw, output = tmp_path / "raw", tmp_path / "output"
    (raw / "open_data").mkdir(parents=True)
    (raw / "open_data" / "sr2024.csv").write_text(OPEN_DATA + surge_rows(), encoding="utf-8")

    assert main(["report", "--year", "2024", "--raw", str(raw), "--output", str(output)]) == 0

    metrics = json.loads((output / "2024" / "key_metrics.json").read_text(encoding="utf-8"))
    sr = metrics["service_requests"]
    # 5 rows (1 cancelled) + 28 + 120 surge rows → 4 + 148 = 152
    assert (sr["total"], sr["cancelled"]) == (152, 1)
    assert sr["top_types"][:3] == [
        {"sr_type": "Sewer Service Line-Blocked", "count": 60},
        {"sr_type": "Catch Basin - Blocked / Flooding", "count": 40},
        {"sr_type": "Graffiti", "count": 28},
    ]
    # General Pruning 2, then the ones (ties alphabetical)
    assert sr["top_types"][5:] == [
        {"sr_type": "General Pruning", "count": 2},
        {"sr_type": "Amplified Sound", "count": 1},
        {"sr_type": "Road - Pot hole", "count": 1},
    ]
    assert sr["surge_days"] == [
        {
            "date": "2024-06-29",
            "count": 120,
            "top_types": [
                {"sr_type": "Sewer Service Line-Blocked", "count": 60},
                {"sr_type": "Catch Basin - Blocked / Flooding", "count": 40},
                {"sr_type": "Tree Emergency Clean-Up", "count": 15},
            ],
        }
    ]
    # No closing times in this format: null, never 0
    assert sr["median_days_to_close"] is None
    assert sr["on_time_rate"] is None
    assert sr["open_at_period_end"] is None
    # No interaction extracts at all: those sections are null
    assert metrics["interactions"] is None and metrics["phone"] is None and metrics["email"] is None
    wards = {w["ward_name"]: w["count"] for w in sr["by_ward"]}
    # Davenport (09): 2 + 28 + 120 = 150
    assert (wards["Davenport"], wards["Beaches-East York"], wards["Unknown"]) == (150, 1, 1)

    html = (output / "2024" / "cx-annual-report-2024.html").read_text(encoding="utf-8")
    assert "not available in this extract" in html
