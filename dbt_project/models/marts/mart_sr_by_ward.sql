-- Service requests per year and ward (the city profile's wards + Unknown): count, rank, share
-- and SRs per 1,000 residents (the profile's ward population; Unknown has none).
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

wards as (
    select * from {{ ref('stg_raw__city_wards') }}
),

years as (
    select distinct created_year from service_requests
),

all_wards as (
    select
        ward_number,
        ward_name,
        population
    from wards
    union all
    select
        null as ward_number,
        'Unknown' as ward_name,
        null as population
),

counted as (
    select
        created_year,
        ward_number,
        count(*) as service_requests
    from service_requests
    where not is_cancelled
    group by all
),

ward_years as (
    select
        years.created_year,
        all_wards.ward_number,
        all_wards.ward_name,
        all_wards.population,
        coalesce(counted.service_requests, 0) as service_requests
    from years
    cross join all_wards
    left join counted
        on
            counted.created_year = years.created_year
            and counted.ward_number is not distinct from all_wards.ward_number
),

final as (
    select
        created_year,
        ward_number,
        ward_name,
        population,
        service_requests,
        rank() over (partition by created_year order by service_requests desc) as ward_rank,
        service_requests / nullif(sum(service_requests) over (partition by created_year), 0)
            as share,
        {{ cx311.float_divide('service_requests * ' ~ var('per_residents') ~ '.0', 'population') }}
            as per_1000_residents
    from ward_years
)

select * from final
