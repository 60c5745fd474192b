-- Non-additive: "cases on routes involving X". A route row counts once for each distinct carrier it
-- lists, so the cells of a year do not add up to the year's total; only primary suppression applies.
{{ cases_per_year(
    'dim_carrier', 'carrier_code', {'carrier_code': 'carrier_code', 'carrier_name': 'carrier_name'},
    bridge='bridge_route_report_carriers',
) }}
