with

source as (
    select * from {{ source('raw', 'kb_views') }}
),

final as (
    select
        date as view_date,
        article_id,
        article_title,
        views,
        _source_file as source_file,
        _delivery_rank as delivery_rank
    from source
)

select * from final
