with

registry as (

    select * from {{ ref('stg_njia__organisations') }}

),

submissions as (

    select * from {{ ref('stg_njia__submissions') }}

),

registered as (

    select
        organisation_code,
        organisation_name,
        organisation_type,
        county_code,
        is_active,
        true as is_registered

    from registry

),

unregistered as (

    -- Organisations whose files were accepted but which have since left the registry keep their rows
    -- in force; they stay in the dimension under their code.
    select distinct
        submissions.organisation_code,
        submissions.organisation_code as organisation_name,
        cast(null as text) as organisation_type,
        cast(null as text) as county_code,
        false as is_active,
        false as is_registered

    from submissions
    left join registry
        on submissions.organisation_code = registry.organisation_code
    where registry.organisation_code is null

),

unioned as (

    select * from registered
    union all
    select * from unregistered

),

final as (

    select
        organisation_code,
        organisation_name,
        organisation_type,
        county_code,
        case when county_code is not null then 'county:' || county_code end as county_location_code,
        is_active,
        is_registered

    from unioned

)

select * from final
