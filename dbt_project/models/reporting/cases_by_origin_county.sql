-- Additive: cases of route rows in force whose origin is a Kenyan county, per year and county.
-- A county withheld alone in its year or in its former province takes a second cell with it.
{{ cases_per_year(
    'dim_location', 'location_code',
    {'county_code': 'county_code', 'county_name': 'place_name', 'former_province': 'former_province'},
    fact_column='origin_location_code',
    where="codes.location_type = 'county'",
    groups=[['report_year'], ['report_year', 'former_province']],
) }}
