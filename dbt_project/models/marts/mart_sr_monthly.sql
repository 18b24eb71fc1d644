-- City-wide SRs created per month (cancelled excluded), and how many of them carry a closing
-- time: the BIA reports' share of the city and whether closing figures can be shown.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

final as (
    select
        created_month,
        count(*) filter (where not is_cancelled) as service_requests,
        count(*) filter (where closed_at_available) as with_closing_time
    from service_requests
    group by all
)

select * from final
