"""The warehouse's landing tables: what the loader writes and dbt reads as sources.

Every table lives in the DuckDB schema ``raw``. Values are already validated and normalised
by the loader (channels, types and statuses lower-case with underscores; timestamps as
absolute instants). Bookkeeping columns start with an underscore.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"

CHANNELS = ("phone", "email", "live_chat", "web", "mobile_app", "social", "in_person", "other")
INTERACTION_TYPES = ("general_inquiry", "service_request", "status_update")
OUTCOMES = ("answered", "abandoned")
SR_STATUSES = ("initiated", "in_progress", "closed", "cancelled", "unknown")

# The id column of each entity whose repeated ids are listed in raw.repeated_ids.
ID_COLUMNS = {"interactions": "interaction_id", "service_requests": "sr_id"}

# Columns shared by every landing table: where the row came from.
#   _source_file    path of the file relative to the raw folder, e.g. '2024/interactions.csv'
#   _source_line    1-based line number in the file (CSV: the physical line, header = line 1;
#                   Parquet: row number + 1, as if a header line came first)
#   _delivery_rank  order in which files were delivered (modification time, then name);
#                   a higher rank is a later delivery and wins for a repeated id
_BOOKKEEPING = """
    _source_file    VARCHAR NOT NULL,
    _source_line    BIGINT NOT NULL,
    _delivery_rank  INTEGER NOT NULL
"""

DDL = {
    "interactions": f"""
    CREATE TABLE IF NOT EXISTS raw.interactions (
        interaction_id   VARCHAR NOT NULL,
        started_at       TIMESTAMPTZ NOT NULL,
        channel          VARCHAR NOT NULL,
        interaction_type VARCHAR NOT NULL,
        topic            VARCHAR,
        outcome          VARCHAR,
        queue_seconds    INTEGER,
        handle_seconds   INTEGER,
        transferred      BOOLEAN,
        responded_at     TIMESTAMPTZ,
        sr_id            VARCHAR,
        language         VARCHAR,
        {_BOOKKEEPING}
    )""",
    "service_requests": f"""
    CREATE TABLE IF NOT EXISTS raw.service_requests (
        sr_id             VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        closed_at         TIMESTAMPTZ,
        status            VARCHAR NOT NULL,
        sr_type           VARCHAR NOT NULL,
        division          VARCHAR NOT NULL,
        section           VARCHAR,
        ward              VARCHAR,
        fsa               VARCHAR,
        intersection_1    VARCHAR,
        intersection_2    VARCHAR,
        latitude          DOUBLE,
        longitude         DOUBLE,
        bia               VARCHAR,
        channel           VARCHAR,
        -- false for formats without a closing time (City Open Data): closed_at is unknown,
        -- not empty, and every metric that needs it is null
        closed_at_available BOOLEAN NOT NULL,
        {_BOOKKEEPING}
    )""",
    "kb_views": f"""
    CREATE TABLE IF NOT EXISTS raw.kb_views (
        date          DATE NOT NULL,
        article_id    VARCHAR NOT NULL,
        article_title VARCHAR NOT NULL,
        views         BIGINT NOT NULL,
        {_BOOKKEEPING}
    )""",
    # One row per file loaded: rows_read = rows_loaded + rows_rejected + duplicates_collapsed.
    "load_audit": """
    CREATE TABLE IF NOT EXISTS raw.load_audit (
        source_file          VARCHAR PRIMARY KEY,
        entity               VARCHAR NOT NULL,  -- interactions | service_requests | kb_views
        file_format          VARCHAR NOT NULL,  -- csv | csv.gz | parquet | open_data
        encoding             VARCHAR,           -- utf-8 | utf-8-sig | cp1252 (null for parquet)
        sha256               VARCHAR NOT NULL,
        size_bytes           BIGINT NOT NULL,
        delivery_rank        INTEGER NOT NULL,
        rows_read            BIGINT NOT NULL,
        rows_loaded          BIGINT NOT NULL,
        rows_rejected        BIGINT NOT NULL,
        duplicates_collapsed BIGINT NOT NULL
    )""",
    # Every id delivered more than once (twice in one file, or again in a later file), found by
    # the loader while it looks for exact duplicates: dbt ranks the deliveries of these ids
    # only, instead of sorting every row. A superset is harmless (an id listed here that is
    # now delivered once is simply kept), so ids are never removed.
    "repeated_ids": """
    CREATE TABLE IF NOT EXISTS raw.repeated_ids (
        entity VARCHAR NOT NULL,  -- interactions | service_requests
        id     VARCHAR NOT NULL
    )""",
    # One row per rejected row (the first problem found in it). The offending value is not
    # stored: it could be personal data.
    "rejects": """
    CREATE TABLE IF NOT EXISTS raw.rejects (
        source_file VARCHAR NOT NULL,
        entity      VARCHAR NOT NULL,
        line        BIGINT NOT NULL,
        "column"    VARCHAR NOT NULL,
        reason      VARCHAR NOT NULL
    )""",
}
