-- The most frequent SR types per BIA and month (ties alphabetical), with their share of the
-- BIA's SRs in the month and how many types have the same count, listed or not (a report then
-- never names one type as the most frequent when others tie with it).
with

located as (
    select * from {{ ref('int_bia_service_requests') }}
),

counted as (
    select
        bia_name,
        created_month as report_month,
        sr_type,
        count(*) as service_requests
    from located
    where not is_cancelled
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by bia_name, report_month order by service_requests desc, sr_type
        ) as type_rank,
        service_requests / sum(service_requests) over (partition by bia_name, report_month) as share,
        count(*) over (partition by bia_name, report_month, service_requests) as types_with_this_count
    from counted
),

final as (
    select
        bia_name,
        report_month,
        type_rank,
        sr_type,
        service_requests,
        share,
        types_with_this_count
    from ranked
    where type_rank <= {{ var('bia_top_types_n') }}
)

select * from final
