-- Every SR delivered in more than one version: the version that counts (the first in
-- version_order, macros/latest_delivery.sql, as int_service_requests picks it) and which part
-- of the rule chose it over the next newest version: updated_at; the delivery order of files
-- loaded by different runs; the modification times (then names) of files first loaded
-- together, which a copy can change; or the line order within one file.
with

service_requests as (
    select * from {{ ref('stg_raw__service_requests') }}
),

repeated_ids as (
    select id as sr_id
    from {{ ref('stg_raw__repeated_ids') }}
    where entity = 'service_requests'
),

load_audit as (
    select * from {{ ref('stg_raw__load_audit') }}
),

versions as (
    select
        sr_id,
        updated_at,
        source_file,
        row_number() over (
            partition by sr_id order by {{ version_order('service_requests') }}
        ) as newness
    from service_requests
    where sr_id in (select repeated_ids.sr_id from repeated_ids)
),

kept as (
    select * from versions
    where newness = 1
),

next_newest as (
    select * from versions
    where newness = 2
),

final as (
    select
        kept.sr_id,
        kept.source_file as kept_file,
        case
            when
                kept.updated_at is not null
                and (next_newest.updated_at is null or kept.updated_at > next_newest.updated_at)
                then 'updated_at'
            when kept.source_file = next_newest.source_file then 'line order'
            when kept_file.load_batch = next_file.load_batch then 'modification time'
            else 'delivery order'
        end as decided_by
    from kept
    inner join next_newest on kept.sr_id = next_newest.sr_id
    inner join load_audit as kept_file on kept.source_file = kept_file.source_file
    inner join load_audit as next_file on next_newest.source_file = next_file.source_file
)

select * from final
