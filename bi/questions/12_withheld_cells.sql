-- Transparency: how many cells of each published table are withheld, per year.
select report_year, 'cases_by_origin_county' as report_table, count(*) filter (where suppressed) as withheld_cells, count(*) as cells
from reporting.cases_by_origin_county group by report_year
union all
select report_year, 'cases_by_province', count(*) filter (where suppressed), count(*)
from reporting.cases_by_province group by report_year
union all
select report_year, 'cases_by_destination_country', count(*) filter (where suppressed), count(*)
from reporting.cases_by_destination_country group by report_year
union all
select report_year, 'cases_by_route', count(*) filter (where suppressed), count(*)
from reporting.cases_by_route group by report_year
union all
select report_year, 'cases_by_exploitation_type', count(*) filter (where suppressed), count(*)
from reporting.cases_by_exploitation_type group by report_year
union all
select report_year, 'cases_by_carrier', count(*) filter (where suppressed), count(*)
from reporting.cases_by_carrier group by report_year
union all
select report_year, 'cases_by_recruitment_method', count(*) filter (where suppressed), count(*)
from reporting.cases_by_recruitment_method group by report_year
union all
select report_year, 'cases_by_means_of_control', count(*) filter (where suppressed), count(*)
from reporting.cases_by_means_of_control group by report_year
union all
select report_year, 'cases_by_transit_point', count(*) filter (where suppressed), count(*)
from reporting.cases_by_transit_point group by report_year
union all
select report_year, 'cases_by_province_destination', count(*) filter (where suppressed), count(*)
from reporting.cases_by_province_destination group by report_year
union all
select report_year, 'cases_by_province_exploitation', count(*) filter (where suppressed), count(*)
from reporting.cases_by_province_exploitation group by report_year
union all
select report_year, 'cases_by_province_carrier', count(*) filter (where suppressed), count(*)
from reporting.cases_by_province_carrier group by report_year
union all
select report_year, 'cases_by_province_recruitment', count(*) filter (where suppressed), count(*)
from reporting.cases_by_province_recruitment group by report_year
union all
select report_year, 'cases_tip', count(*) filter (where suppressed), count(*)
from reporting.cases_tip group by report_year
order by 1 desc, 2
