-- Surge days: a day whose SR count is at least surge_factor x the median of the
-- surge_window_days preceding days (zero-SR days included) and at least surge_floor, with
-- its multiple of that median.
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

daily as (
    select
        created_date,
        count(*) as service_requests
    from service_requests
    where not is_cancelled
    group by all
),

calendar as (
    select cast(day as date) as created_date
    from {{ cx311.date_series(
        '(select min(created_date) from daily)',
        '(select max(created_date) from daily) + interval 1 day',
        'interval 1 day', 'day'
    ) }}  -- noqa: AL05, LT01
),

daily_filled as (
    select
        calendar.created_date,
        coalesce(daily.service_requests, 0) as service_requests
    from calendar
    left join daily using (created_date)
),

with_baseline as (
    select
        created_date,
        service_requests,
        {{ cx311.median('service_requests', over='preceding_window') }} as baseline_median,
        count(*) over preceding_window as baseline_days
    from daily_filled
    window preceding_window as (
        order by created_date
        rows between {{ var('surge_window_days') }} preceding and 1 preceding
    )
),

final as (
    select
        created_date as surge_date,
        year(created_date) as surge_year,
        service_requests,
        baseline_median,
        service_requests / nullif(baseline_median, 0) as baseline_multiple
    from with_baseline
    where
        baseline_days = {{ var('surge_window_days') }}
        and service_requests >= {{ var('surge_factor') }} * baseline_median
        and service_requests >= {{ var('surge_floor') }}
)

select * from final
