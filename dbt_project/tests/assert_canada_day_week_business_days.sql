-- The real holiday calendar: from Friday 28 June 2024 to Wednesday 3 July 2024 there are
-- exactly 2 business days (2 and 3 July): the weekend and Canada Day (Monday) are skipped.
with

days as (
    select * from {{ ref('int_business_days') }}
),

counts as (
    select
        max(business_day_number) filter (where calendar_date = date '2024-07-03')
        - max(business_day_number) filter (where calendar_date = date '2024-06-28') as business_days,
        bool_or(is_business_day) filter (where calendar_date = date '2024-07-01') as canada_day_is_business_day
    from days
)

select * from counts where business_days <> 2 or canada_day_is_business_day
