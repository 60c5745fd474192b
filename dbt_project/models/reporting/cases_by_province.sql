-- Additive: cases of route rows in force whose origin is a Kenyan county, per year and former province.
{{ cases_per_year(
    'dim_location', 'location_code', {'former_province': 'former_province'},
    fact_column='origin_location_code',
    where="codes.location_type = 'county'",
    groups=[['report_year']],
) }}
