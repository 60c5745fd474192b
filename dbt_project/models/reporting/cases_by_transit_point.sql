-- Non-additive: "cases on routes passing through X". A route row counts once for each distinct transit
-- point of its route, so the cells of a year do not add up to the year's total; only primary suppression.
{{ cases_per_year(
    'dim_location', 'location_code', {'transit_code': 'location_code', 'transit_name': 'location_name'},
    bridge='bridge_route_transit_points', route_key='route_key',
) }}
