-- SRs created per BIA and month by their status at extract time (cancelled included).
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

bia_names as (
    select * from {{ ref('int_sr_bias') }}
),

final as (
    select
        bia_names.bia_name,
        service_requests.created_month as report_month,
        service_requests.status,
        count(*) as service_requests
    from service_requests
    inner join bia_names on service_requests.bia = bia_names.bia_raw
    where bia_names.bia_name is not null
    group by all
)

select * from final
