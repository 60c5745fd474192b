-- Additive: cases of route rows in force per year and destination country (KE: trafficking inside Kenya).
{{ cases_per_year(
    'dim_location', 'location_code', {'country_code': 'country_code', 'country_name': 'country_name'},
    fact_column='destination_location_code',
    groups=[['report_year']],
) }}
