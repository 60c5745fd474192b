{#-
    Post-hook of the big mart tables: their primary key, added once the rows are in. A contract's inline
    primary key makes PostgreSQL maintain the index row by row over random md5 keys (29 s for one bridge
    at 1,000,000 route rows); building it afterwards sorts once (9 s, load included). Uniqueness is
    enforced all the same, before the build can publish.
-#}
{% macro primary_key_after_load(column) -%}
    alter table {{ this }} add primary key ({{ adapter.quote(column) }})
{%- endmacro %}
