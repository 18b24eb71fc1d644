-- Where a BIA's requests of a month are: the most frequent locations (an intersection or a
-- street, never a house number: stg_raw__service_requests, location_name), ties alphabetical,
-- the first bia_top_locations_n; requests without a recorded location are counted in
-- mart_bia_monthly.without_location.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

bia_names as (
    select * from {{ ref('int_sr_bias') }}
),

located as (
    select
        bia_names.bia_name,
        service_requests.created_month as report_month,
        service_requests.location
    from service_requests
    inner join bia_names on service_requests.bia = bia_names.bia_raw
    where bia_names.bia_name is not null and not service_requests.is_cancelled
),

counted as (
    select
        bia_name,
        report_month,
        location,
        count(*) as service_requests
    from located
    where location is not null
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by bia_name, report_month order by service_requests desc, location
        ) as location_rank
    from counted
),

final as (
    select
        ranked.bia_name,
        ranked.report_month,
        ranked.location_rank,
        ranked.location,
        ranked.service_requests
    from ranked
    where ranked.location_rank <= {{ var('bia_top_locations_n') }}
)

select * from final
