-- The load audit per file, with rejects by reason and the loader's notes on the columns it did
-- not read: what the report's data notes show.
with

load_audit as (
    select * from {{ ref('stg_raw__load_audit') }}
),

rejects as (
    select * from {{ ref('stg_raw__rejects') }}
),

load_notes as (
    select * from {{ ref('stg_raw__load_notes') }}
),

reasons as (
    select
        source_file,
        {{ cx311.string_agg("reason || ': ' || rejected", '; ', 'rejected desc, reason') }}
            as rejects_by_reason
    from (
        select
            source_file,
            reason,
            count(*) as rejected
        from rejects
        group by all
    ) as per_reason
    group by all
),

notes as (
    select
        source_file,
        {{ cx311.string_agg('note', '; ', 'note') }} as load_notes
    from load_notes
    group by all
),

final as (
    select
        load_audit.source_file,
        load_audit.entity,
        load_audit.file_format,
        load_audit.encoding,
        load_audit.extract_year,
        load_audit.sha256,
        load_audit.rows_read,
        load_audit.rows_loaded,
        load_audit.rows_rejected,
        load_audit.duplicates_collapsed,
        reasons.rejects_by_reason,
        notes.load_notes
    from load_audit
    left join reasons using (source_file)
    left join notes using (source_file)
)

select * from final
