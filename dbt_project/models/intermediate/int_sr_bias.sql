-- Each distinct BIA name in the extracts matched to the BIA seed (case and spacing ignored,
-- the ' BIA' suffix optional). Unmatched names keep bia_name null and are listed by the
-- BIA batch's run summary, never silently dropped.
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
        {{ cx311.regexp_replace(
            "lower(trim(" ~ cx311.regexp_replace('bia_raw', '\s+', ' ', all=true) ~ "))", '\s+bia$', ''
        ) }} as bia_key
    from spellings
),

seed_keyed as (
    select
        bia_name,
        {{ cx311.regexp_replace(
            "lower(trim(" ~ cx311.regexp_replace('bia_name', '\s+', ' ', all=true) ~ "))", '\s+bia$', ''
        ) }} as bia_key
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
