-- The organisations' portal (njia/portal, docs/interfaces.md §9): people who sign in for one organisation,
-- their sessions, one-time links to set a password, sign-in attempts (the rate limit must hold across every
-- worker process, so it lives here), the uploads the portal saved, and the audit of who did what.

-- One person, one organisation. The e-mail is stored as typed and matched in lower case.
create table ops.portal_users (
    user_id           bigserial   primary key,
    email             text        not null check (email = lower(email) and length(email) between 3 and 254),
    organisation_code text        not null,
    password_hash     text,                       -- argon2id; null until the person sets a password
    active            boolean     not null default true,
    created_at        timestamptz not null default now(),
    password_set_at   timestamptz,
    unique (email)
);
comment on table ops.portal_users is 'Portal accounts: one person, one organisation; argon2id password hashes.';

-- A session is a random id (only its SHA-256 is stored) bound to one person, with its own CSRF token.
create table ops.portal_sessions (
    session_hash char(64)    primary key,
    user_id      bigint      not null references ops.portal_users on delete cascade,
    csrf_token   text        not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index portal_sessions_user on ops.portal_sessions (user_id);

-- One-time links to set a password (new accounts and resets); only the token's SHA-256 is stored.
create table ops.portal_tokens (
    token_hash char(64)    primary key,
    user_id    bigint      not null references ops.portal_users on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);

-- Every sign-in attempt, for the rate limit per account and per address.
create table ops.portal_signin_attempts (
    attempted_at timestamptz not null default now(),
    email        text        not null,
    ip           text        not null,
    ok           boolean     not null
);
create index portal_signin_attempts_email on ops.portal_signin_attempts (email, attempted_at);
create index portal_signin_attempts_ip on ops.portal_signin_attempts (ip, attempted_at);

-- A file the portal saved into an organisation's inbox folder; its ledger row is found by path and bytes.
create table ops.portal_uploads (
    upload_id         bigserial   primary key,
    organisation_code text        not null,
    user_id           bigint      references ops.portal_users on delete set null,
    file_path         text        not null,
    original_name     text        not null,
    sha256            char(64)    not null,
    size_bytes        bigint      not null,
    uploaded_at       timestamptz not null default now(),
    error_id          text                        -- set when processing at once failed (the DAG picks it up)
);
create index portal_uploads_org on ops.portal_uploads (organisation_code, upload_id);

-- Who did what, when: sign-ins (success and failure), sign-outs, password changes, uploads, downloads.
create table ops.portal_audit (
    audit_id          bigserial   primary key,
    at                timestamptz not null default now(),
    event             text        not null,
    ok                boolean     not null,
    email             text,
    organisation_code text,
    ip                text,
    detail            text
);
create index portal_audit_at on ops.portal_audit (at);
comment on table ops.portal_audit is 'Portal audit: sign-in, sign-out, password, upload, download (njia status).';

-- The portal loads files through ingest, so it runs with the loader's rights; it also needs these tables.
grant select, insert, update, delete on ops.portal_users, ops.portal_sessions, ops.portal_tokens,
    ops.portal_signin_attempts, ops.portal_uploads, ops.portal_audit to njia_loader;
grant usage on all sequences in schema ops to njia_loader;
