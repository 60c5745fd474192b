-- The file ledger: one row for every received file, whatever its outcome (CONTRACT.md §6).
create table ops.submissions (
    submission_id     bigserial primary key,
    organisation_code text        not null,
    file_path         text        not null,
    file_name         text        not null,
    sha256            char(64)    not null,
    size_bytes        bigint      not null,
    received_at       timestamptz not null default now(),
    status            text        not null
        check (status in ('accepted', 'accepted_with_errors', 'rejected', 'duplicate')),
    reason            text,
    rows_read         integer     not null default 0,
    rows_loaded       integer     not null default 0,
    rows_quarantined  integer     not null default 0,
    header_names      text[]      not null default '{}',
    ignored_columns   text[]      not null default '{}',
    archive_path      text,
    duplicate_of      bigint references ops.submissions,
    check ((status = 'rejected') = (reason is not null)),
    check (rows_read = rows_loaded + rows_quarantined)
);
comment on table ops.submissions is 'One row per received file (the ledger). Bytes live in the archive by sha256.';

-- Identical bytes are loaded at most once, whichever process gets there first.
create unique index submissions_sha256_once on ops.submissions (sha256) where status <> 'duplicate';
create index submissions_path on ops.submissions (file_path, sha256);
create index submissions_org on ops.submissions (organisation_code);

-- The periods an accepted file covers: the unit of replacement is (organisation, period).
create table ops.submission_periods (
    submission_id     bigint  not null references ops.submissions,
    organisation_code text    not null,
    reporting_period  text    not null,
    period_start      date    not null,
    period_end        date    not null,
    primary key (submission_id, reporting_period)
);
create index submission_periods_org on ops.submission_periods (organisation_code, period_start);

-- Invalid rows, kept with their reasons (values masked where they look like phone numbers or e-mails).
create table ops.quarantine (
    submission_id bigint  not null references ops.submissions,
    row_number    integer not null,
    column_name   text,
    value         text,
    problem_code  text    not null,
    message       text    not null
);
create index quarantine_submission on ops.quarantine (submission_id, row_number);

-- One row per pipeline step run, for `njia status` and the engineers watching the DAGs.
create table ops.runs (
    run_id      bigserial primary key,
    command     text        not null,
    started_at  timestamptz not null default now(),
    finished_at timestamptz,
    ok          boolean,
    detail      jsonb
);

-- Loaded rows, normalised to canonical codes, with lineage to the file and the spreadsheet row.
-- List columns hold ';'-joined canonical codes in the order the organisation gave them.
create table raw.route_reports (
    submission_id        bigint      not null references ops.submissions,
    row_number           integer     not null,
    organisation_code    text        not null,
    reporting_period     text        not null,
    period_start         date        not null,
    period_end           date        not null,
    origin_country       char(2)     not null,
    origin_county        char(3),
    transit_points       text,
    destination_country  char(2)     not null,
    destination_county   char(3),
    exploitation_type    text        not null,
    transport_modes      text,
    carriers             text,
    recruitment_methods  text,
    means_of_control     text,
    cases_estimated      integer     not null,
    female_cases         integer,
    male_cases           integer,
    child_cases          integer,
    loaded_at            timestamptz not null default now(),
    primary key (submission_id, row_number)
);
comment on table raw.route_reports is 'Every loaded route row with lineage; rows in force are chosen in dbt.';

-- The organisation registry the deployment provides, refreshed from its CSV on every ingest.
create table raw.organisations (
    organisation_code text primary key,
    organisation_name text        not null,
    organisation_type text,
    county_code       char(3),
    active            boolean     not null default true,
    loaded_at         timestamptz not null default now()
);
