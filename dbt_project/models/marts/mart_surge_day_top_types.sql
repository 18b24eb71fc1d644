-- The three most frequent SR types on each surge day (ties alphabetical).
with

surge_days as (
    select * from {{ ref('mart_surge_days') }}
),

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

counted as (
    select
        surge_days.surge_date,
        service_requests.sr_type,
        count(*) as service_requests
    from surge_days
    inner join service_requests on service_requests.created_date = surge_days.surge_date
    where not service_requests.is_cancelled
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by surge_date order by service_requests desc, sr_type
        ) as type_rank
    from counted
),

final as (
    select
        surge_date,
        type_rank,
        sr_type,
        service_requests
    from ranked
    where type_rank <= 3
)

select * from final
