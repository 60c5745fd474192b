{#-
    Post-hook of every published table: constraints named after the table, not after the `<model>__dbt_tmp`
    table dbt built it as. PostgreSQL 18 records NOT NULL as named constraints, and a contract's unnamed ones
    take the name of the table they were created in; renaming the table later keeps them. BI tools and
    people reading pg_constraint then see `<table>_<column>_not_null`, as for a table created directly.
-#}
{% macro stable_constraint_names() -%}
    do $stable_names$
    declare
        c record;
    begin
        for c in
            select
                con.conname,
                left(case con.contype
                    when 'n' then t.relname::text || '_' || a.attname::text || '_not_null'
                    when 'p' then t.relname::text || '_pkey'
                    else replace(con.conname::text, '__dbt_tmp', '')
                end, 63) as new_name
            from pg_constraint as con
            inner join pg_class as t on con.conrelid = t.oid
            inner join pg_namespace as n on t.relnamespace = n.oid
            left join pg_attribute as a on con.conrelid = a.attrelid and a.attnum = con.conkey[1]
            where n.nspname = '{{ this.schema }}' and t.relname = '{{ this.identifier }}'
                -- PostgreSQL shortens a long table name inside a constraint's name (`<model>__dbt_` only)
                and con.conname like '%\_\_dbt\_%'
        loop
            execute format('alter table %I.%I rename constraint %I to %I',
                '{{ this.schema }}', '{{ this.identifier }}', c.conname, c.new_name);
        end loop;
    end
    $stable_names$
{%- endmacro %}
