-- Non-additive: "cases on routes involving X" per former province of the Kenyan origin county. A route row
-- counts once for each distinct carrier it lists; a cell is at most its province's cases. Primary suppression.
{{ cases_per_year(
    'dim_carrier', 'carrier_code', {'carrier_code': 'carrier_code', 'carrier_name': 'carrier_name'},
    bridge='bridge_route_report_carriers',
    per_province=true,
) }}
