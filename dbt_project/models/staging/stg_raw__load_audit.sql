with

source as (
    select * from {{ source('raw', 'load_audit') }}
),

final as (
    select
        source_file,
        entity,
        file_format,
        encoding,
        sha256,
        size_bytes,
        delivery_rank,
        -- the load run that first loaded the file: files first loaded together are placed by
        -- modification time, then name (0: loaded before places were kept, by modification time)
        load_batch,
        rows_read,
        rows_loaded,
        rows_rejected,
        duplicates_collapsed,
        -- files under <YEAR>/ belong to that year's extract; Open Data files to none
        try_cast({{ cx311.regexp_extract('source_file', '^(\d{4})/', 1) }} as integer) as extract_year
    from source
)

select * from final
