with

airlines as (

    select * from {{ ref('stg_reference__airlines') }}

),

listed as (

    select
        carrier_code,
        carrier_name,
        icao_code,
        home_country_code

    from airlines

),

other_carrier as (

    -- docs/contract.md §3: a carrier is an IATA code from the code list, or `other`.
    select
        'other' as carrier_code,
        'Other airline' as carrier_name,
        cast(null as text) as icao_code,
        cast(null as text) as home_country_code

),

final as (

    select * from listed
    union all
    select * from other_carrier

)

select * from final
