-- Every loaded input file with each report year it feeds, and its load audit: what the
-- manifest, key_metrics.json's data_quality and the report's sources list for a year. A year's
-- figures are compared with the year before, so the files of a year folder feed that year's
-- report and the next year's; City Open Data files (in no year folder) feed every report year.
with

data_quality as (
    select * from {{ ref('mart_data_quality') }}
),

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

-- the years a report can be asked for: each year folder's year and the next, and the years the
-- service requests were created in (Open Data files have no year folder); interactions come
-- from year folders only
report_years as (
    select extract_year as report_year
    from data_quality
    where extract_year is not null
    union
    select extract_year + 1 as report_year
    from data_quality
    where extract_year is not null
    union
    select distinct created_year as report_year
    from service_requests
),

final as (
    select
        report_years.report_year,
        data_quality.source_file,
        data_quality.entity,
        data_quality.file_format,
        data_quality.encoding,
        data_quality.extract_year,
        data_quality.sha256,
        data_quality.rows_read,
        data_quality.rows_loaded,
        data_quality.rows_rejected,
        data_quality.duplicates_collapsed,
        data_quality.rejects_by_reason,
        data_quality.load_notes,
        data_quality.delivery_rank,
        data_quality.placed_by_modification_time
    from report_years
    inner join data_quality
        on
            data_quality.extract_year is null
            or data_quality.extract_year in (report_years.report_year, report_years.report_year - 1)
)

select * from final
