-- What the transformer (dbt, run by njia.transform) needs beyond 003_grants:
-- * usage on schema ops: 003 grants select on ops.submissions and ops.submission_periods, which is useless
--   without usage on the schema;
-- * a schema for snapshots (history that must survive every build; transformer only);
-- * create on the database: each build creates shadow schemas (<layer>__build) and publishes them only when
--   every test passed, and a report with another small-cell threshold gets a private reporting schema.
grant usage on schema ops to njia_transformer;

create schema if not exists snapshots;
grant usage, create on schema snapshots to njia_transformer;

do $$
begin
    execute format('grant create on database %I to njia_transformer', current_database());
end $$;
