-- Every calendar day of the holiday calendar's range, with the running number of business
-- days (weekdays that are not the city profile's holidays) up to and including it.
with

holidays as (
    select * from {{ ref('stg_raw__city_holidays') }}
),

calendar as (
    select cast(day as date) as calendar_date
    from {{ cx311.date_series(
        '(select make_date(year(min(holiday_date)), 1, 1) from holidays)',
        '(select make_date(year(max(holiday_date)) + 1, 1, 1) from holidays)',
        'interval 1 day', 'day'
    ) }}  -- noqa: AL05, LT01
),

flagged as (
    select
        calendar.calendar_date,
        {{ cx311.iso_day_of_week('calendar.calendar_date') }} <= 5 and holidays.holiday_date is null as is_business_day
    from calendar
    left join holidays on calendar.calendar_date = holidays.holiday_date
),

final as (
    select
        calendar_date,
        is_business_day,
        sum(case when is_business_day then 1 else 0 end)
            over (order by calendar_date rows unbounded preceding) as business_day_number
    from flagged
)

select * from final
