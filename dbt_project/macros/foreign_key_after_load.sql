{#-
    Post-hook of the big mart tables (the fact and the list bridges): a named foreign key to a dimension, for
    BI tools that suggest joins from it (Metabase). It is added NOT VALID: the rows are checked by the model's
    `relationships` tests, which gate publication and name the offending column (a failing build stays in the
    shadow schemas for inspection), and the tables are never written after the build, so PostgreSQL's own
    check would only add a second pass over up to millions of rows (inline in a contract, a trigger per row).
    The referenced model must be a dependency of the model (a `-- depends_on:` comment in its SQL).
-#}
{% macro foreign_key_after_load(name, column, to_model, to_column) -%}
    alter table {{ this }} add constraint {{ adapter.quote(name) }}
        foreign key ({{ adapter.quote(column) }}) references {{ ref(to_model) }} ({{ adapter.quote(to_column) }})
        not valid
{%- endmacro %}
