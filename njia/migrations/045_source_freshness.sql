-- What `dbt source freshness` found (njia.transform.freshness), one row per source table and check, so that
-- `njia status` can say how long ago raw data last arrived, judged against the thresholds the dbt sources
-- declare (dbt_project/models/staging/njia/raw/_raw__sources.yml).
create table ops.source_freshness (
    check_id      bigserial        primary key,
    checked_at    timestamptz      not null,
    source        text             not null,
    status        text             not null check (status in ('pass', 'warn', 'error', 'runtime error')),
    max_loaded_at timestamptz,
    age_seconds   double precision,
    warn_after    text,
    error_after   text,
    message       text
);
create index source_freshness_latest on ops.source_freshness (source, checked_at desc);
comment on table ops.source_freshness is 'Each dbt source freshness check, per source table.';
comment on column ops.source_freshness.max_loaded_at is 'Latest loaded_at in the table; null when it has no rows.';

-- dbt runs as the transformer; it records what it found.
grant select, insert on ops.source_freshness to njia_transformer;
grant usage on sequence ops.source_freshness_check_id_seq to njia_transformer;
