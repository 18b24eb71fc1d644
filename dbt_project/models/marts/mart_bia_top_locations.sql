-- Where a BIA's requests of a month are: the most frequent locations (an intersection or a
-- street, never a house number: stg_raw__service_requests, location_name), ties alphabetical,
-- the first bia_top_locations_n; requests without a recorded location are counted in
-- mart_bia_monthly.without_location.
with

located_in_bias as (
    select * from {{ ref('int_bia_service_requests') }}
),

located as (
    select
        bia_name,
        created_month as report_month,
        location
    from located_in_bias
    where not is_cancelled
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
