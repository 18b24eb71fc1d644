-- Each distinct BIA name in the extracts matched to the BIA seed on their bia_key (case and
-- spacing ignored, the ' BIA' suffix optional). Unmatched names keep bia_name null and are
-- listed by the BIA batch's run summary, never silently dropped.
with

service_requests as (
    select * from {{ ref('stg_raw__service_requests') }}
),

bias as (
    select * from {{ ref('bias') }}
),

spellings as (
    select distinct bia as bia_raw from service_requests
    where bia is not null
),

keyed as (
    select
        bia_raw,
        {{ bia_key('bia_raw') }} as bia_key
    from spellings
),

seed_keyed as (
    select
        bia_name,
        {{ bia_key('bia_name') }} as bia_key
    from bias
),

final as (
    select
        keyed.bia_raw,
        seed_keyed.bia_name
    from keyed
    left join seed_keyed using (bia_key)
)

select * from final
