-- SR types per year (not cancelled), ranked by count (ties alphabetical), with share.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

counted as (
    select
        created_year,
        sr_type,
        count(*) as service_requests
    from service_requests
    where not is_cancelled
    group by all
),

final as (
    select
        created_year,
        row_number() over (
            partition by created_year order by service_requests desc, sr_type
        ) as type_rank,
        sr_type,
        service_requests,
        service_requests / sum(service_requests) over (partition by created_year) as share
    from counted
)

select * from final
