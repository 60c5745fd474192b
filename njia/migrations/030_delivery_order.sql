-- Delivery order as data: each file (path and bytes) gets a sequence when it is first discovered, in
-- discovery order (by modification time within an organisation's folder), and the rows in force are the
-- latest delivery's, not the latest commit's: a correction stays in force whatever order runners commit in.
create table ops.deliveries (
    delivery_seq  bigserial   primary key,
    file_path     text        not null,
    sha256        char(64)    not null,
    source_mtime  timestamptz,
    discovered_at timestamptz not null default now(),
    unique (file_path, sha256)
);
comment on table ops.deliveries is 'When each file was first discovered; delivery_seq orders deliveries.';

alter table ops.submissions
    add column delivery_seq bigint,
    add column delivered_at timestamptz,
    add column detail       text;
comment on column ops.submissions.delivery_seq is
    'Order of delivery (ops.deliveries); the latest accepted delivery of a period is in force.';
comment on column ops.submissions.delivered_at is
    'The source''s modification time, where the storage gives one (received_at for files before migration 030).';
comment on column ops.submissions.detail is 'What the feedback says about the reason (an internal error''s id).';

-- Files received before this migration were committed in delivery order: that order is their submission_id.
insert into ops.deliveries (delivery_seq, file_path, sha256, discovered_at)
select submission_id, file_path, sha256, received_at from ops.submissions
on conflict (file_path, sha256) do nothing;
update ops.submissions set delivery_seq = submission_id, delivered_at = received_at;
select setval(pg_get_serial_sequence('ops.deliveries', 'delivery_seq'),
              greatest((select max(delivery_seq) from ops.deliveries), 1));
create index submissions_delivery on ops.submissions (organisation_code, delivery_seq);

grant select, insert on ops.deliveries to njia_loader;
grant usage on sequence ops.deliveries_delivery_seq_seq to njia_loader;
