-- E-mails received per year and the share acknowledged within the standard.
with

interactions as (
    select * from {{ ref('int_interactions') }}
),

final as (
    select
        activity_year,
        count(*) as received,
        count(*) filter (
            where seconds_to_response <= {{ var('email_ack_hours') }} * 3600
        ) as acknowledged_within_standard_count,
        count(*) filter (
            where seconds_to_response <= {{ var('email_ack_hours') }} * 3600
        ) / count(*) as acknowledged_within_standard
    from interactions
    where channel = 'email'
    group by all
)

select * from final
