-- Service requests as delivered, renamed and converted: the type name cleaned of the exports'
-- separators (clean_type_name), the division under the name the City's reports give it now
-- (seed division_names: a division renamed or split since, matched on division and section,
-- else on division alone; any other division as delivered), and the location as the BIA
-- reports name it, an intersection or a street, never a house number (location_name).
-- The type names and the streets are cleaned once per distinct value and joined back: the
-- regular expressions on every row took most of a cold build of int_service_requests (a few
-- hundred types and a few thousand street spellings against a million rows a year). The
-- distinct values read the source table itself: through the shared CTE, DuckDB would keep
-- every column of every row for them, where a build of a new month reads only its rows.
with

source as (
    select * from {{ source('raw', 'service_requests') }}
),

type_names as (
    select
        sr_type as sr_type_delivered,
        {{ clean_type_name('sr_type') }} as sr_type
    from (select distinct sr_type from {{ source('raw', 'service_requests') }}) as delivered
),

street_names as (
    select
        street_delivered,
        {{ street_name('street_delivered') }} as street_name
    from (
        select intersection_1 as street_delivered from {{ source('raw', 'service_requests') }}
        union
        select intersection_2 as street_delivered from {{ source('raw', 'service_requests') }}
    ) as delivered
),

with_names as (
    select
        source.*,
        type_names.sr_type as sr_type_clean,
        street_1.street_name as street_1,
        street_2.street_name as street_2
    from source
    left join type_names on source.sr_type = type_names.sr_type_delivered
    left join street_names as street_1 on source.intersection_1 = street_1.street_delivered
    left join street_names as street_2 on source.intersection_2 = street_2.street_delivered
),

division_names as (
    select * from {{ ref('division_names') }}
),

final as (
    select
        with_names.sr_id,
        with_names.created_at,
        with_names.closed_at,
        with_names.status,
        with_names.sr_type_clean as sr_type,
        coalesce(by_section.reported_as, by_division.reported_as, with_names.division) as division,
        with_names.section,
        trim(with_names.ward) as ward_raw,
        with_names.fsa,
        with_names.latitude,
        with_names.longitude,
        {{ location_name('with_names.street_1', 'with_names.street_2') }} as location,
        nullif(trim(with_names.bia), '') as bia,
        with_names.channel,
        with_names.due_at,
        with_names.updated_at,
        with_names.closed_at_available,
        with_names._source_file as source_file,
        with_names._source_line as source_line,
        with_names._delivery_rank as delivery_rank
    from with_names
    left join division_names as by_section
        on
            with_names.division = by_section.division
            and with_names.section = by_section.section
    left join division_names as by_division
        on
            with_names.division = by_division.division
            and by_division.section is null
)

select * from final
