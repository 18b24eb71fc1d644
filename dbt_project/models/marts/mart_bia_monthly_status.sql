-- SRs created per BIA and month by their status at extract time (cancelled included).
with

located as (
    select * from {{ ref('int_bia_service_requests') }}
),

final as (
    select
        bia_name,
        created_month as report_month,
        status,
        count(*) as service_requests
    from located
    group by all
)

select * from final
