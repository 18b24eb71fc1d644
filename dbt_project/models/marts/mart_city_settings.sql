-- The city profile's settings the figures were computed with (name, JSON value), as
-- key_metrics.json's `settings` block and manifest.json record them.
with

settings as (
    select * from {{ ref('stg_raw__city_settings') }}
),

final as (
    select
        name,
        value
    from settings
)

select * from final
