-- The load audit per file, with rejects by reason, the loader's notes on the columns it did
-- not read and the file's place in the delivery order: what the report's data notes show.
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

batches as (
    select
        load_batch,
        count(*) as files
    from load_audit
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
        notes.load_notes,
        load_audit.delivery_rank,
        -- first loaded with other files (or before places were kept): placed among them by
        -- modification time, then name
        batches.files > 1 or load_audit.load_batch = 0 as placed_by_modification_time
    from load_audit
    left join reasons using (source_file)
    left join notes using (source_file)
    inner join batches using (load_batch)
)

select * from final
