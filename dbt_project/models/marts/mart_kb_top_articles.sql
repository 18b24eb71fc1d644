-- Knowledge-base articles per year by views, ranked (ties alphabetical).
with

kb_views as (
    select * from {{ ref('stg_raw__kb_views') }}
),

latest_titles as (
    select
        article_id,
        article_title
    from kb_views
    qualify row_number() over (
        partition by article_id order by view_date desc, delivery_rank desc
    ) = 1
),

counted as (
    select
        year(view_date) as view_year,
        article_id,
        sum(views) as views
    from kb_views
    group by all
),

final as (
    select
        counted.view_year,
        row_number() over (
            partition by counted.view_year order by counted.views desc, latest_titles.article_title
        ) as article_rank,
        counted.article_id,
        latest_titles.article_title,
        counted.views
    from counted
    inner join latest_titles using (article_id)
)

select * from final
