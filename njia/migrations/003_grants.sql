-- Least privilege: the loader writes ops and raw; the transformer reads raw and owns the dbt schemas;
-- analysts read marts and reporting; the public role reads reporting only.
grant usage on schema ops, raw to njia_loader;
grant select, insert, update on all tables in schema ops to njia_loader;
grant usage on all sequences in schema ops to njia_loader;
grant select, insert, delete on all tables in schema raw to njia_loader;

grant usage on schema raw to njia_transformer;
grant select on all tables in schema raw to njia_transformer;
grant select on ops.submissions, ops.submission_periods to njia_transformer;
grant usage, create on schema staging, intermediate, marts, reporting to njia_transformer;

grant usage on schema marts, reporting to njia_analyst;
grant usage on schema reporting to njia_public;
