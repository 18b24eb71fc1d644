-- How many SRs delivered in more than one version had the version that counts chosen by each
-- part of the rule, per file holding it: the console says it after a build, and the report's
-- data notes say how many the modification times of files first loaded together decided.
with

versions as (
    select * from {{ ref('int_sr_versions') }}
),

final as (
    select
        kept_file as source_file,
        decided_by,
        count(*) as service_requests
    from versions
    group by all
)

select * from final
