-- What is still open in a BIA at the end of a month, oldest first: each SR located in the BIA,
-- created by the end of the month, not cancelled and not closed by then (mart_bia_monthly's
-- open_at_month_end), with its type, creation date, age in days at the month's last day and
-- location; the first bia_open_requests_n, the rest counted in mart_bia_monthly. Only months
-- whose extracts have closing times (mart_bia_monthly.closing_times_available).
with

located_in_bias as (
    select * from {{ ref('int_bia_service_requests') }}
),

months as (
    select
        bia_name,
        report_month,
        cast(report_month + interval 1 month - interval 1 day as date) as month_end
    from {{ ref('mart_bia_monthly') }}
    where closing_times_available
),

located as (
    select
        bia_name,
        sr_id,
        sr_type,
        created_at_local,
        created_date,
        closed_at,
        closed_at_local,
        location
    from located_in_bias
    where status <> 'cancelled' and closed_at_available
),

open_at_month_end as (
    select
        months.bia_name,
        months.report_month,
        located.sr_id,
        located.sr_type,
        located.created_at_local,
        located.created_date,
        {{ cx311.days_between('located.created_date', 'months.month_end') }} as age_days,
        located.location
    from months
    inner join located
        on
            located.bia_name = months.bia_name
            and located.created_at_local < months.report_month + interval 1 month
            and (located.closed_at is null or located.closed_at_local >= months.report_month + interval 1 month)
),

ranked as (
    select
        *,
        row_number() over (
            partition by bia_name, report_month order by created_at_local, sr_type, sr_id
        ) as open_rank
    from open_at_month_end
),

final as (
    select
        bia_name,
        report_month,
        open_rank,
        sr_type,
        created_date,
        age_days,
        location
    from ranked
    where open_rank <= {{ var('bia_open_requests_n') }}
)

select * from final
