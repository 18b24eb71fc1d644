-- BIA names in the extracts that match no BIA in the seed, with their SRs per month (a name
-- whose rows were all superseded by later deliveries keeps one row with 0 SRs). The BIA
-- batch lists them in its run summary, so no SR is dropped without a word.
with

bia_names as (
    select * from {{ ref('int_sr_bias') }}
),

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

final as (
    select
        bia_names.bia_raw,
        service_requests.created_month,
        count(service_requests.sr_id) as service_requests
    from bia_names
    left join service_requests on service_requests.bia = bia_names.bia_raw
    where bia_names.bia_name is null
    group by all
)

select * from final
