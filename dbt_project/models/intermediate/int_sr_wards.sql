-- Each distinct ward spelling in the extracts, resolved to one of the city profile's wards or
-- Unknown.
-- Accepted: 'Etobicoke Centre (02)', 'Etobicoke Centre (2)', '2', '02', 'Etobicoke Centre'.
with

service_requests as (
    select * from {{ ref('stg_raw__service_requests') }}
),

wards as (
    select * from {{ ref('stg_raw__city_wards') }}
),

spellings as (
    select distinct ward_raw from service_requests
),

parsed as (
    select
        ward_raw,
        coalesce(
            try_cast({{ cx311.regexp_extract('ward_raw', '\((\d{1,2})\)\s*$', 1) }} as integer),
            try_cast({{ cx311.regexp_extract('ward_raw', '^(\d{1,2})$', 1) }} as integer)
        ) as number_given,
        lower(trim({{ cx311.regexp_replace('ward_raw', '\s*\(\d{1,2}\)\s*$', '') }})) as name_given
    from spellings
),

resolved as (
    select
        parsed.ward_raw,
        coalesce(by_number.ward_number, by_name.ward_number) as ward_number
    from parsed
    left join wards as by_number
        on parsed.number_given = by_number.ward_number
    left join wards as by_name
        on parsed.number_given is null and parsed.name_given = lower(by_name.ward_name)
),

final as (
    select
        resolved.ward_raw,
        resolved.ward_number,
        coalesce(wards.ward_name, 'Unknown') as ward_name
    from resolved
    left join wards on resolved.ward_number = wards.ward_number
)

select * from final
