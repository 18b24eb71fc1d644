-- A business day is a weekday that is not one of the city profile's holidays, and the running
-- number grows by one on each business day and on no other day.
with

days as (
    select * from {{ ref('int_business_days') }}
),

holidays as (
    select * from {{ ref('stg_raw__city_holidays') }}
),

expected as (
    select
        days.calendar_date,
        days.is_business_day,
        days.business_day_number
        - coalesce(lag(days.business_day_number) over (order by days.calendar_date), 0) as step,
        {{ cx311.iso_day_of_week('days.calendar_date') }} <= 5
        and holidays.holiday_date is null as should_be_business_day
    from days
    left join holidays on days.calendar_date = holidays.holiday_date
)

select * from expected
where
    is_business_day <> should_be_business_day
    or step <> case when is_business_day then 1 else 0 end
