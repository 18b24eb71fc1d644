-- Service requests per year: count (not cancelled), cancelled, change vs prior year, time to
-- close, on-time rate and open at year end. Figures that need closing times are null when
-- the extract has none (City Open Data format).
with

service_requests as (
    select * from {{ ref('int_service_requests') }}
),

per_year as (
    select
        created_year,
        count(*) filter (where not is_cancelled) as service_requests,
        count(*) filter (where is_cancelled) as cancelled,
        count(*) filter (where closed_at_available) as with_closing_times,
        {{ cx311.median('days_to_close', filter='closed_at_available and not is_cancelled') }}
            as median_days_to_close,
        count(*) filter (where closed_at_available and is_closed and has_due_date)
            as closed_with_standard,
        count(*) filter (where closed_at_available and is_on_time) as closed_on_time,
        count(*) filter (
            where closed_at_available
            and status <> 'cancelled'
            and (closed_at is null or closed_at_local >= make_date(created_year + 1, 1, 1))
        ) as open_at_period_end
    from service_requests
    group by all
),

final as (
    select
        this_year.created_year,
        this_year.service_requests,
        this_year.cancelled,
        prior_year.service_requests as prior_year_service_requests,
        (this_year.service_requests - prior_year.service_requests)
        / prior_year.service_requests as change_vs_prior_year,
        this_year.with_closing_times > 0 as closing_times_available,
        this_year.median_days_to_close,
        this_year.closed_with_standard,
        this_year.closed_on_time,
        this_year.closed_on_time / nullif(this_year.closed_with_standard, 0) as on_time_rate,
        case when this_year.with_closing_times > 0 then this_year.open_at_period_end end
            as open_at_period_end
    from per_year as this_year
    left join per_year as prior_year
        on prior_year.created_year = this_year.created_year - 1
)

select * from final
