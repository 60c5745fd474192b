-- Every alert the platform raised (njia/alerts.py), whether or not a channel was configured to carry it:
-- `njia status` shows them, and an alert with a key is not repeated within NJIA_ALERT_REPEAT_HOURS.
create table ops.alerts (
    alert_id        bigserial   primary key,
    sent_at         timestamptz not null default now(),
    kind            text        not null,
    alert_key       text,
    subject         text        not null,
    detail          text,
    channels_sent   text[]      not null default '{}',
    channels_failed jsonb
);
create index alerts_key on ops.alerts (alert_key, sent_at) where alert_key is not null;
comment on table ops.alerts is 'Alerts raised (task failures, blocked publication, stale sources, missing submissions, quarantine rate) and the channels that accepted them.';
