-- The BIA monthly report's figures, for every BIA and every month of the data: SRs in the
-- month, quarter-to-date, year-to-date, the month before and the same month a year earlier
-- with the change from each, time to close and on-time rate of SRs closed in the month (with
-- how many had a service standard), SRs open at month end (null when the month's extracts have
-- no closing times), share of the city, and the date the extracts' statuses are as of.
with

located as (
    select * from {{ ref('int_bia_service_requests') }}
),

bias as (
    select bia_name from {{ ref('bias') }}
),

-- the city's figures per month of creation, from one read of every SR
city_months as (
    select
        created_month as report_month,
        count(*) filter (where not is_cancelled) as city_service_requests,
        -- the closing figures are known for a month when any SR created in it (anywhere in the
        -- city, cancelled or not) comes from an extract with closing times: not with City Open
        -- Data only
        count(*) filter (where closed_at_available) > 0 as closing_times_available,
        max(greatest(created_at_local, coalesce(closed_at_local, created_at_local))) as latest_local
    from {{ ref('int_service_requests') }}
    group by all
),

months as (
    select cast(month as date) as report_month
    from {{ cx311.date_series(
        '(select min(report_month) from city_months)',
        '(select max(report_month) from city_months) + interval 1 month',
        'interval 1 month', 'month'
    ) }}  -- noqa: AL05, LT01
),

grid as (
    select
        bias.bia_name,
        months.report_month
    from bias
    cross join months
),

created as (
    select
        bia_name,
        created_month as report_month,
        count(*) as service_requests,
        count(*) filter (where location is null) as without_location
    from located
    where not is_cancelled
    group by all
),

-- the statuses (mart_bia_monthly_status) are as of the latest local date on which any SR of the
-- extracts was created or closed
as_of as (
    select cast(max(latest_local) as date) as status_as_of
    from city_months
),

closed_in_month as (
    select
        bia_name,
        cast(date_trunc('month', closed_at_local) as date) as report_month,
        count(*) as closed,
        {{ cx311.median('days_to_close') }} as median_days_to_close,
        count(*) filter (where has_due_date) as closed_with_standard,
        count(*) filter (where is_on_time) as closed_on_time
    from located
    where is_closed and closed_at_available
    group by all
),

-- open at a month's end: created by then, not cancelled, from an extract with closing times,
-- and not closed by then. Counted as a running sum over the months, each SR +1 in the month it
-- was created and -1 in the month it was closed: one pass over the SRs, where a join of every
-- SR with every month after it grew with the months held. An SR closed in the month it was
-- created (or, in error, before) is open at no month's end and counts in neither.
spanning as (
    select
        bia_name,
        created_month,
        cast(date_trunc('month', closed_at_local) as date) as closed_month
    from located
    where
        status <> 'cancelled'
        and closed_at_available
        and (closed_at is null or cast(date_trunc('month', closed_at_local) as date) > created_month)
),

openings as (
    select
        bia_name,
        created_month as report_month,
        count(*) as opened
    from spanning
    group by all
),

closings as (
    select
        bia_name,
        closed_month as report_month,
        count(*) as closed
    from spanning
    where closed_month is not null
    group by all
),

open_at_month_end as (
    select
        grid.bia_name,
        grid.report_month,
        cast(sum(coalesce(openings.opened, 0) - coalesce(closings.closed, 0)) over (
            partition by grid.bia_name order by grid.report_month rows unbounded preceding
        ) as bigint) as open_at_month_end
    from grid
    left join openings
        on openings.bia_name = grid.bia_name and openings.report_month = grid.report_month
    left join closings
        on closings.bia_name = grid.bia_name and closings.report_month = grid.report_month
),

counted as (
    select
        grid.bia_name,
        grid.report_month,
        coalesce(created.service_requests, 0) as service_requests,
        coalesce(created.without_location, 0) as without_location,
        city.city_service_requests
    from grid
    left join created using (bia_name, report_month)
    left join city_months as city using (report_month)
),

with_periods as (
    select
        *,
        sum(service_requests) over (
            partition by bia_name, year(report_month), quarter(report_month)
            order by report_month rows unbounded preceding
        ) as quarter_to_date,
        sum(service_requests) over (
            partition by bia_name, year(report_month)
            order by report_month rows unbounded preceding
        ) as year_to_date
    from counted
),

final as (
    select
        with_periods.bia_name,
        with_periods.report_month,
        with_periods.service_requests,
        with_periods.without_location,
        with_periods.quarter_to_date,
        with_periods.year_to_date,
        previous_month.service_requests as previous_month,
        (with_periods.service_requests - previous_month.service_requests)
        / nullif(previous_month.service_requests, 0) as change_vs_previous_month,
        prior_year.service_requests as same_month_prior_year,
        (with_periods.service_requests - prior_year.service_requests)
        / nullif(prior_year.service_requests, 0) as change_vs_same_month_prior_year,
        coalesce(closing_times.closing_times_available, false) as closing_times_available,
        case when closing_times.closing_times_available then coalesce(closed_in_month.closed, 0) end
            as closed_in_month,
        case when closing_times.closing_times_available then closed_in_month.median_days_to_close end
            as median_days_to_close,
        case when closing_times.closing_times_available then coalesce(closed_in_month.closed_with_standard, 0) end
            as closed_with_standard,
        case
            when closing_times.closing_times_available
                then closed_in_month.closed_on_time / nullif(closed_in_month.closed_with_standard, 0)
        end as on_time_rate,
        case when closing_times.closing_times_available then coalesce(open_at_month_end.open_at_month_end, 0) end
            as open_at_month_end,
        with_periods.service_requests / nullif(with_periods.city_service_requests, 0) as share_of_city,
        as_of.status_as_of
    from with_periods
    cross join as_of
    left join with_periods as previous_month
        on
            previous_month.bia_name = with_periods.bia_name
            and previous_month.report_month = with_periods.report_month - interval 1 month
    left join with_periods as prior_year
        on
            prior_year.bia_name = with_periods.bia_name
            and prior_year.report_month = with_periods.report_month - interval 1 year
    left join closed_in_month
        on
            closed_in_month.bia_name = with_periods.bia_name
            and closed_in_month.report_month = with_periods.report_month
    left join open_at_month_end
        on
            open_at_month_end.bia_name = with_periods.bia_name
            and open_at_month_end.report_month = with_periods.report_month
    left join city_months as closing_times
        on closing_times.report_month = with_periods.report_month
)

select * from final
