-- The SRs located in a BIA (their BIA name matched to the seed: int_sr_bias), with the columns
-- the BIA marts read. About one SR in twelve: the five BIA marts read these rows instead of
-- each joining every SR to the BIA names again (at 10x Toronto's volume, 0.8 M rows for 9.7 M).
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
        service_requests.sr_id,
        service_requests.sr_type,
        service_requests.status,
        service_requests.location,
        service_requests.created_at_local,
        service_requests.created_date,
        service_requests.created_month,
        service_requests.closed_at,
        service_requests.closed_at_local,
        service_requests.closed_at_available,
        service_requests.days_to_close,
        service_requests.has_due_date,
        service_requests.is_cancelled,
        service_requests.is_closed,
        service_requests.is_on_time
    from service_requests
    inner join bia_names on service_requests.bia = bia_names.bia_raw
    where bia_names.bia_name is not null
)

select * from final
