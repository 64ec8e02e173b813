-- Reports (issue 12, items 1–4): area groups, manual entries of the daily quick report, and the
-- scheduled e-mail's deliveries with every attempt.

-- ---------------------------------------------------------------- area groups
-- The data has no district tier (communes sit directly under provinces since 2025): an admin
-- names a group of communes (a former district's, a town's) and the daily report is filed for it.
CREATE TABLE report_area_groups (
  id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*$'),
  name            text NOT NULL,
  -- The province the communes belong to, when known (codes are opaque, as on subscribers).
  province        text,
  communes        text[] NOT NULL CHECK (cardinality(communes) > 0),
  -- The unit that files the report ("Trung tâm VHTT và Truyền thanh huyện …") and who compiles it.
  organisation    text,
  compiler_name   text,
  compiler_phone  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- manual entries
-- Channels Loa does not send through (web portal posts, newspaper and radio items, broadcasts made
-- outside Loa), added by an officer for one day and area so the filed report is complete.
-- `area` is 'province:<code>' or 'group:<id>' (src/reports/area.ts).
CREATE TABLE report_entries (
  id          bigserial PRIMARY KEY,
  day         date NOT NULL,
  area        text NOT NULL,
  channel     text NOT NULL CHECK (channel IN ('web', 'newspaper', 'radio', 'television', 'loudspeaker', 'screen', 'other')),
  count       integer NOT NULL CHECK (count >= 0),
  minutes     numeric CHECK (minutes >= 0),
  text        text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_entries_day_area ON report_entries (area, day);

-- ---------------------------------------------------------------- scheduled e-mail
-- One row per (area, day): the scheduler claims it before sending (so two schedulers, or a restart,
-- never send a day's report twice) and records every attempt; a failed send is retried, and the next
-- day's report lists the failures as abnormal events.
CREATE TABLE report_deliveries (
  id              bigserial PRIMARY KEY,
  area            text NOT NULL,
  day             date NOT NULL,
  state           text NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  -- Who holds the send while state = 'sending' and until when (a crashed sender's claim expires).
  claimed_until   timestamptz,
  recipients      text[] NOT NULL,
  message_id      text,
  sent_at         timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (area, day)
);

CREATE TABLE report_delivery_attempts (
  id           bigserial PRIMARY KEY,
  delivery_id  bigint NOT NULL REFERENCES report_deliveries (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL,
  ok           boolean NOT NULL,
  error        text
);
CREATE INDEX report_delivery_attempts_delivery ON report_delivery_attempts (delivery_id, at);

-- The daily report looks plays up by the day they were played.
CREATE INDEX IF NOT EXISTS plays_played_from ON plays (played_from);

-- ---------------------------------------------------------------- run report scans
-- The one part of a run report the counters cannot give (timeline, error codes) costs a scan of the
-- run's messages. For a finished run it is kept here with the counters' state as it was then
-- (`signature`): a later report reuses it while the counters are unchanged, and scans again after
-- a late receipt moved a message (the counters then differ).
CREATE TABLE report_run_scans (
  run_id          bigint PRIMARY KEY,
  signature       text NOT NULL,
  scan            jsonb NOT NULL,
  computed_at     timestamptz NOT NULL DEFAULT now()
);
