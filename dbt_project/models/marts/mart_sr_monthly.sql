-- City-wide SRs created per month (cancelled excluded): the BIA reports' city total.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

final as (
    select
        created_month,
        count(*) filter (where not is_cancelled) as service_requests
    from service_requests
    group by all
)

select * from final
