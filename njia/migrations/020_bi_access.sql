-- BI access (INTERFACES.md, Warehouse): analysts read marts and reporting, the public role (Metabase for
-- partners and government) reads reporting only. Nothing else, and no writes.
--
-- Login users for the BI tools, one per group role. They are created NOLOGIN and without a password:
-- `njia init` (njia.access.apply) sets the password from NJIA_ANALYST_PASSWORD / NJIA_PUBLIC_PASSWORD and
-- allows login. Roles are cluster-wide, so several Njia databases on one server share them.
do $$
declare
    u record;
begin
    for u in select * from (values ('njia_analyst_user', 'njia_analyst'),
                                   ('njia_public_user', 'njia_public')) as t(login, grp) loop
        if not exists (select 1 from pg_roles where rolname = u.login) then
            execute format('create role %I nologin noinherit', u.login);
        end if;
        -- Inherit the group's privileges and nothing more; never a superuser, never able to create.
        execute format('alter role %I inherit nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
                       u.login);
        execute format('grant %I to %I', u.grp, u.login);
        -- BI sessions only read, see their schemas first, and cannot hold the warehouse for long.
        execute format('alter role %I set default_transaction_read_only = on', u.login);
        execute format('alter role %I set statement_timeout = %L', u.login, '120s');
        execute format('alter role %I set idle_in_transaction_session_timeout = %L', u.login, '300s');
    end loop;
    execute 'alter role njia_analyst_user set search_path = marts, reporting';
    execute 'alter role njia_public_user set search_path = reporting';
end $$;

-- Schema usage (also in 003) and read access to what exists now.
grant usage on schema marts, reporting to njia_analyst;
grant usage on schema reporting to njia_public;
grant select on all tables in schema marts to njia_analyst;
grant select on all tables in schema reporting to njia_analyst, njia_public;

-- Tables dbt creates later stay readable: default privileges for the role that runs the migrations (the
-- embedded setup runs dbt with the same user) and for njia_transformer when dbt logs in as a member of it.
alter default privileges in schema marts grant select on tables to njia_analyst;
alter default privileges in schema reporting grant select on tables to njia_analyst, njia_public;
do $$
begin
    if pg_has_role(current_user, 'njia_transformer', 'MEMBER')
       or (select rolsuper from pg_roles where rolname = current_user) then
        execute 'alter default privileges for role njia_transformer in schema marts '
                'grant select on tables to njia_analyst';
        execute 'alter default privileges for role njia_transformer in schema reporting '
                'grant select on tables to njia_analyst, njia_public';
    else
        raise notice 'njia: % is not a member of njia_transformer; default privileges for that role are '
                     'left to its administrator', current_user;
    end if;
end $$;

-- Before PostgreSQL 15 every role could create objects in schema public; nobody needs to here.
revoke create on schema public from public;
