-- Schemas of the warehouse (INTERFACES.md) and the group roles that own access to them.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists reporting;

-- Roles are cluster-wide, so several Njia databases on one server share them.
do $$
declare r text;
begin
  foreach r in array array['njia_loader', 'njia_transformer', 'njia_analyst', 'njia_public'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      execute format('create role %I nologin', r);
    end if;
  end loop;
end $$;
