"""The hand-made extracts of the end-to-end fixture (tests/integration/conftest.py builds a
warehouse and the 2024 report from them once per session). Every figure the tests expect is
worked out by hand from these rows, in the tests' comments."""

from __future__ import annotations

import os
from pathlib import Path

INTERACTIONS_2024 = """\
interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,handle_seconds,transferred,responded_at,sr_id,language,caller_name
i1,2024-01-10 09:00:00,phone,general_inquiry,Property Tax Billing,answered,30,200,N,,,en,Jane Roe
i2,2024-01-10 09:05:00,Phone,general_inquiry,Property Tax Billing,answered,75,300,N,,,en,John Doe
i3,2024-02-01 10:00:00,phone,service_request,,answered,76,400,Y,,S1,fr,
i4,2024-02-01 11:00:00,phone,status_update,,abandoned,4,,,,,en,
i5,2024-02-02 11:00:00,phone,general_inquiry,Vacant Home Tax,abandoned,60,,,,,en,
i6,2024-03-01 12:00:00,email,general_inquiry,Vacant Home Tax,,,,,2024-03-03 12:00:00,,en,
i7,2024-03-01 12:00:00,email,service_request,,,,,,2024-03-03 12:00:01,,,
i8,2024-12-31T23:30:00-05:00,web,general_inquiry,Property Tax Billing,,,,,,,en,
i9,2025-01-01T04:30:00+00:00,Live Chat,general_inquiry,Garbage Collection Schedule,answered,,100,,,,en,
i10,2024-06-01 08:00:00,mobile-app,service_request,,,,,,,,EN,
i1,2024-01-10 09:00:00,phone,general_inquiry,Property Tax Billing,answered,30,200,N,,,en,Jane Roe
i11,2024-06-01 08:00:00,fax,general_inquiry,,,,,,,,en,
"""

INTERACTIONS_2023 = """\
interaction_id,started_at,channel,interaction_type,topic,outcome,queue_seconds,handle_seconds
j1,2023-05-01 09:00:00,phone,general_inquiry,Property Tax Billing,answered,10,100
j2,2023-05-01 09:00:00,web,general_inquiry,Property Tax Billing,,,
j3,2023-05-01 09:00:00,web,status_update,,,,
"""

SERVICE_REQUESTS_2024 = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward
S1,2024-02-01 10:05:00,2024-02-03 10:05:00,Closed,Residential Bin Lid Damaged,Solid Waste Management Services,Collections,Etobicoke Centre (02)
S2,2024-06-28 09:00:00,2024-07-03 16:00:00,Completed,Road - Pot hole,Transportation Services,Road Operations,2
S3,2024-03-01 08:00:00,2024-03-05 08:00:00,closed,Dead Wildlife Pickup,Municipal Licensing & Standards,Toronto Animal Services,03
S4,2024-12-20 10:00:00,,New,Injured Wildlife,Municipal Licensing & Standards,Toronto Animal Services,Etobicoke-Lakeshore
S5,2024-04-01 10:00:00,2024-04-02 10:00:00,Cancelled,Residential Bin Lid Damaged,Solid Waste Management Services,Collections,2
S6,2024-05-01 10:00:00,2024-05-02 22:00:00,Closed,Residential Bin Lid Damaged,Solid Waste Management Services,Collections,
S7,2024-12-30 10:00:00,2025-01-03 10:00:00,Closed,Amplified Sound,Municipal Licensing & Standards,Bylaw Enforcement,Ward X
"""

SERVICE_REQUESTS_2023 = """\
sr_id,created_at,closed_at,status,sr_type,division,section,ward
T1,2023-03-01 10:00:00,2023-03-02 10:00:00,Closed,General Pruning,Urban Forestry,Tree Maintenance,1
T2,2023-04-01 10:00:00,,In Progress,General Pruning,Urban Forestry,Tree Maintenance,1
"""

KB_VIEWS_2024 = """\
date,article_id,article_title,views
2024-01-01,A1,Property Tax,100
2024-01-02,A1,Property Tax,50
2024-01-01,A2,Garbage & Recycling Schedule,120
2023-12-31,A2,Garbage & Recycling Schedule,999
"""


# The files' modification times: one second apart from 1 January 2026 (UTC), in the order
# written below, so that the delivery order of a new warehouse (modification time, then name)
# is that order on every machine, however fast the files are written.
DELIVERED_FROM = 1_767_225_600


def write_extracts(raw: Path) -> None:
    """The 2023 and 2024 extract folders under ``raw``, delivered in the order written."""
    delivered = DELIVERED_FROM
    for year, files in {
        2023: {
            "interactions_2023.csv": INTERACTIONS_2023,
            "service_requests_2023.csv": SERVICE_REQUESTS_2023,
        },
        2024: {
            "interactions_2024.csv": INTERACTIONS_2024,
            "service_requests_2024.csv": SERVICE_REQUESTS_2024,
            "kb_views_2024.csv": KB_VIEWS_2024,
        },
    }.items():
        (raw / str(year)).mkdir(parents=True)
        for name, text in files.items():
            (raw / str(year) / name).write_text(text, encoding="utf-8")
            os.utime(raw / str(year) / name, (delivered, delivered))
            delivered += 1
