-- Service requests as delivered, renamed and converted: the type name cleaned of the exports'
-- separators (clean_type_name), the division under the name the City's reports give it now
-- (seed division_names: a division renamed or split since, matched on division and section,
-- else on division alone; any other division as delivered), and the location as the BIA
-- reports name it, an intersection or a street, never a house number (location_name).
with

source as (
    select
        *,
        {{ street_name('intersection_1') }} as street_1,
        {{ street_name('intersection_2') }} as street_2
    from {{ source('raw', 'service_requests') }}
),

division_names as (
    select * from {{ ref('division_names') }}
),

final as (
    select
        source.sr_id,
        source.created_at,
        source.closed_at,
        source.status,
        {{ clean_type_name('source.sr_type') }} as sr_type,
        coalesce(by_section.reported_as, by_division.reported_as, source.division) as division,
        source.section,
        trim(source.ward) as ward_raw,
        source.fsa,
        source.latitude,
        source.longitude,
        {{ location_name('source.street_1', 'source.street_2') }} as location,
        nullif(trim(source.bia), '') as bia,
        source.channel,
        source.due_at,
        source.updated_at,
        source.closed_at_available,
        source._source_file as source_file,
        source._source_line as source_line,
        source._delivery_rank as delivery_rank
    from source
    left join division_names as by_section
        on
            source.division = by_section.division
            and source.section = by_section.section
    left join division_names as by_division
        on
            source.division = by_division.division
            and by_division.section is null
)

select * from final
