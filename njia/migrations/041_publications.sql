-- One row per publication of the marts and reporting schemas (njia.transform.build), written in the same
-- transaction as the swap: the k the published reporting tables were suppressed with is data, read by
-- njia.transform.published_min_cell, and the history says when each publication happened.
create table ops.publications (
    publication_id bigserial   primary key,
    published_at   timestamptz not null default now(),
    min_cell       integer     not null check (min_cell >= 1),
    relations      integer     not null check (relations >= 0)
);
comment on table ops.publications is
    'Each publication of marts and reporting by a build; the latest row holds the published k.';
comment on column ops.publications.min_cell is
    'The small-cell threshold k the published reporting tables were suppressed with.';
comment on column ops.publications.relations is 'Relations moved from the shadow schemas into the published ones.';

grant select, insert on ops.publications to njia_transformer;
grant usage on sequence ops.publications_publication_id_seq to njia_transformer;

-- A warehouse built before this migration recorded k only in the reporting tables' comments (dbt's
-- persist_docs, "Suppressed with k = N."): carried over once, so its published tables stay readable.
insert into ops.publications (published_at, min_cell, relations)
select now(), substring(obj_description(to_regclass('reporting.coverage'), 'pg_class')
                        from 'Suppressed with k = (\d+)\.')::integer, 0
where substring(obj_description(to_regclass('reporting.coverage'), 'pg_class')
                from 'Suppressed with k = (\d+)\.') is not null;
