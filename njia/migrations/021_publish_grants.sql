-- Keep the published schemas readable whatever way dbt (re)creates them.
--
-- Default privileges (020) follow a schema's identity, not its name: njia.transform builds into shadow
-- schemas (marts__build, reporting__build) and swaps them in by renaming, so the new `reporting` would have
-- neither the schema grants nor the default privileges of the old one. This event trigger re-applies read
-- access whenever a schema named marts or reporting appears (created or renamed) and whenever a table or
-- view is created, renamed or moved into one of them. Private reporting schemas (another k) and every
-- other schema get nothing.
--
-- It never blocks DDL: a grant that fails is reported as a warning. Creating an event trigger needs a
-- superuser; without one the migration only says so, and `njia init` (njia.access.apply) re-grants instead.
create or replace function ops.njia_grant_published() returns event_trigger
language plpgsql
set search_path = pg_catalog
as $$
declare
    cmd record;
    readers text;
begin
    for cmd in select * from pg_event_trigger_ddl_commands() loop
        begin
            if cmd.in_extension then
                continue;
            end if;
            if cmd.object_type = 'schema' then
                readers := case cmd.object_identity when 'marts' then 'njia_analyst'
                                                    when 'reporting' then 'njia_analyst, njia_public' end;
                if readers is not null then
                    execute format('grant usage on schema %s to %s', cmd.object_identity, readers);
                    execute format('grant select on all tables in schema %s to %s', cmd.object_identity, readers);
                end if;
            elsif cmd.object_type in ('table', 'view', 'materialized view', 'foreign table') then
                readers := case cmd.schema_name when 'marts' then 'njia_analyst'
                                                when 'reporting' then 'njia_analyst, njia_public' end;
                if readers is not null then
                    execute format('grant select on %s to %s', cmd.object_identity, readers);
                end if;
            end if;
        exception when others then
            raise warning 'njia: could not grant read access after % on %: %',
                cmd.command_tag, cmd.object_identity, sqlerrm;
        end;
    end loop;
end
$$;
comment on function ops.njia_grant_published() is
    'Event trigger: tables, views and schemas named marts/reporting stay readable by the BI roles (021).';
revoke all on function ops.njia_grant_published() from public;

do $$
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        execute 'drop event trigger if exists njia_grant_published';
        execute 'create event trigger njia_grant_published on ddl_command_end when tag in ('
                '''CREATE SCHEMA'', ''ALTER SCHEMA'', ''CREATE TABLE'', ''CREATE TABLE AS'', ''SELECT INTO'', '
                '''ALTER TABLE'', ''CREATE VIEW'', ''ALTER VIEW'', ''CREATE MATERIALIZED VIEW'', '
                '''ALTER MATERIALIZED VIEW'', ''CREATE FOREIGN TABLE'') '
                'execute function ops.njia_grant_published()';
    else
        raise notice 'njia: not a superuser, so no event trigger; after swapping schemas call '
                     'njia.access.grant_published() (njia init does)';
    end if;
end $$;
