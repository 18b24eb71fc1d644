-- The most frequent SR types per year and ward (ties alphabetical).
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

counted as (
    select
        created_year,
        ward_number,
        ward_name,
        sr_type,
        count(*) as service_requests
    from service_requests
    where not is_cancelled
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by created_year, ward_number order by service_requests desc, sr_type
        ) as type_rank
    from counted
),

final as (
    select
        created_year,
        ward_number,
        ward_name,
        type_rank,
        sr_type,
        service_requests
    from ranked
    where type_rank <= {{ var('ward_top_types_n') }}
)

select * from final
