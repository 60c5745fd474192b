-- Additive within a province: cases of route rows in force whose origin is a Kenyan county, per year, former
-- province of origin and destination country. A province's cells add up to its cell of cases_by_province.
{{ cases_per_year(
    'dim_location', 'location_code', {'country_code': 'country_code', 'country_name': 'country_name'},
    fact_column='destination_location_code',
    per_province=true,
    groups=[['report_year', 'former_province']],
) }}
