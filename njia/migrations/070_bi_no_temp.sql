-- BI sessions get no temporary tables (bi/README.md): a read-only login should not be able to create
-- objects at all, and PostgreSQL grants TEMP on every database to PUBLIC by default. Revoking it from
-- PUBLIC takes it from every role that only had it that way, the BI users included; the platform's own
-- roles that may need it get it back (dbt's snapshots stage their rows in a temporary table). The owner of
-- the database and superusers keep it regardless.
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('revoke temporary on database %I from njia_analyst, njia_public, njia_analyst_user, '
                   'njia_public_user', current_database());
    execute format('grant temporary on database %I to njia_loader, njia_transformer', current_database());
end $$;
