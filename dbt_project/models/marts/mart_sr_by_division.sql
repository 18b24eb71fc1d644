-- Service requests per year and responsible division (not cancelled), with share.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

counted as (
    select
        created_year,
        division,
        count(*) as service_requests
    from service_requests
    where not is_cancelled
    group by all
),

final as (
    select
        created_year,
        division,
        service_requests,
        service_requests / sum(service_requests) over (partition by created_year) as share
    from counted
)

select * from final
