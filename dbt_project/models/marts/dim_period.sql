with

periods_in_force as (

    select * from {{ ref('int_reporting_periods_in_force') }}

),

periods as (

    select
        reporting_period,
        min(period_start) as period_start,
        max(period_end) as period_end

    from periods_in_force
    group by reporting_period

),

final as (

    select
        reporting_period,
        {{ period_grain('reporting_period') }} as period_grain,
        period_start,
        period_end,
        cast(extract(year from period_start) as integer) as report_year,
        case
            when reporting_period ~ '^[0-9]{4}-Q[1-4]$' then cast(right(reporting_period, 1) as integer)
        end as quarter_of_year,
        case
            when reporting_period ~ '^[0-9]{4}-[0-9]{2}$' then cast(right(reporting_period, 2) as integer)
        end as month_of_year

    from periods

)

select * from final
