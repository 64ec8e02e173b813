-- Loa schema. DESIGN.md: PostgreSQL is the truth, sized for 100M message rows.
-- Naming: snake_case, plural tables; enums mirror the TypeScript unions in src/domain.

-- ---------------------------------------------------------------- enums
-- Exactly MESSAGE_STATES (src/domain/message-state.ts); test/integration/store-schema.test.ts checks it.
CREATE TYPE message_state AS ENUM (
  'queued', 'submitting', 'submitted', 'enroute', 'accepted', 'delivered', 'expired', 'deleted',
  'undeliverable', 'rejected', 'failed', 'unknown', 'ambiguous', 'unroutable'
);
-- Exactly CARRIER_IDS (src/domain/carrier.ts). A 4-byte enum keeps message rows narrow.
CREATE TYPE carrier_id AS ENUM ('viettel', 'vnpt', 'mobifone');
CREATE TYPE run_state AS ENUM ('scheduled', 'compiling', 'running', 'paused', 'cancelled', 'completed', 'failed');
CREATE TYPE campaign_priority AS ENUM ('normal', 'urgent');
CREATE TYPE api_role AS ENUM ('admin', 'operator', 'viewer');

-- Rows that are history (campaign versions, the audit log) must never change.
CREATE FUNCTION forbid_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

-- ---------------------------------------------------------------- campaigns and runs
CREATE TABLE campaigns (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*$'),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived   boolean NOT NULL DEFAULT false
);

-- A version is the campaign document as launched; editing a campaign adds a version.
CREATE TABLE campaign_versions (
  id           bigserial PRIMARY KEY,
  campaign_id  text NOT NULL REFERENCES campaigns (id),
  content_hash text NOT NULL,
  document     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  created_by   text NOT NULL,
  UNIQUE (campaign_id, content_hash)
);
CREATE TRIGGER campaign_versions_immutable BEFORE UPDATE ON campaign_versions
  FOR EACH ROW EXECUTE FUNCTION forbid_update();

CREATE TABLE runs (
  id                  bigserial PRIMARY KEY,
  campaign_version_id bigint NOT NULL REFERENCES campaign_versions (id),
  -- Which occurrence of the schedule: 'now:<uuid>' for a manual launch, the ISO start for an rrule one.
  occurrence_id       text NOT NULL,
  state               run_state NOT NULL DEFAULT 'scheduled',
  priority            campaign_priority NOT NULL DEFAULT 'normal',
  scheduled_for       timestamptz NOT NULL,
  started_at          timestamptz,
  finished_at         timestamptz,
  -- Past this, messages without a receipt become `unknown` (campaign validity).
  expires_at          timestamptz,
  audience_size       integer,
  -- Where compile/submit got to, so a restarted worker resumes; shape owned by src/jobs.
  progress            jsonb NOT NULL DEFAULT '{}',
  launched_by         text NOT NULL,
  error               text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- DESIGN.md: one run per (campaign version, occurrence); launching twice is a no-op.
  UNIQUE (campaign_version_id, occurrence_id)
);
-- The scheduler's "what is due" and the reconciler's "what is active".
CREATE INDEX runs_state_scheduled_for ON runs (state, scheduled_for);

-- ---------------------------------------------------------------- messages
-- One row per recipient per run, partitioned by LIST (run_id): one partition per run, made by
-- create_run_partition() when the run compiles. Why LIST by run rather than HASH:
-- - every hot query names one run (a submit batch, a run's counts, the reconciler), so the
--   planner prunes to one small partition with its own small primary-key index;
-- - a finished run is archived or dropped whole (DETACH … CONCURRENTLY, then DROP or dump)
--   instead of a DELETE of millions of rows and the bloat that leaves;
-- - new runs do not share pages with old ones, so the state updates of a live run stay in
--   a table that fits in memory.
-- The receipt path knows only (carrier, smsc message id), which cannot be a unique key of a
-- partitioned table; it goes through message_segments below instead.
--
-- `id` is per run (1..audience size, assigned in COPY order), 4 bytes; the key is (run_id, id).
-- No foreign key to runs: it would cost a lookup per COPYed row, and create_run_partition
-- checks the run exists. No index on state: state changes three times per row and, with only
-- the primary key indexed, those updates are HOT (see fillfactor in create_run_partition).
CREATE TABLE messages (
  run_id          bigint NOT NULL,
  id              integer NOT NULL,
  carrier         carrier_id,                 -- NULL only when unroutable (another network)
  state           message_state NOT NULL DEFAULT 'queued',
  parts_total     smallint NOT NULL CHECK (parts_total BETWEEN 1 AND 255),
  parts_submitted smallint NOT NULL DEFAULT 0,
  parts_delivered smallint NOT NULL DEFAULT 0,
  attempts        smallint NOT NULL DEFAULT 0,
  submitted_at    timestamptz,
  done_at         timestamptz,
  msisdn          text NOT NULL,              -- E.164 digits without '+', e.g. 84912345678
  province        text,
  commune         text,
  error_code      text,                       -- SMPP command_status (0x…) or the receipt's err:
  PRIMARY KEY (run_id, id),
  CHECK (carrier IS NOT NULL OR state = 'unroutable')
) PARTITION BY LIST (run_id);

-- Creates (idempotently) the partition of one run and returns its name.
-- The table is created on its own and then ATTACHed: ATTACH PARTITION takes SHARE UPDATE
-- EXCLUSIVE on `messages`, which does not conflict with the inserts and updates of running
-- runs, whereas CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE and would queue every
-- receipt and submit behind a long COPY of another run.
CREATE FUNCTION create_run_partition(p_run_id bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  part text := 'messages_r' || p_run_id;
BEGIN
  -- Two compile workers for the same run: the second waits here, then finds the partition.
  PERFORM pg_advisory_xact_lock(hashtextextended('loa:run_partition:' || p_run_id, 0));
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM runs WHERE id = p_run_id) THEN
    RAISE EXCEPTION 'run % does not exist', p_run_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  -- fillfactor 70: each row is updated about three times (submitting, submitted, final);
  -- the free space lets those updates stay on the page (HOT) after COPY filled it.
  EXECUTE format('CREATE TABLE %I (LIKE messages INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 70)', part);
  -- The CHECK lets ATTACH skip validating the (empty) table.
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (run_id = %s)', part, part || '_run', p_run_id);
  EXECUTE format('ALTER TABLE messages ATTACH PARTITION %I FOR VALUES IN (%s)', part, p_run_id);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_run');
  RETURN part;
END $$;

-- One row per submitted segment: (carrier, SMSC message id) → message. This is the unique key
-- DESIGN.md asks for and the receipt lookup, in a plain (unpartitioned) table because the key
-- does not contain run_id. It is written in the same statement that marks the message
-- `submitted`, so a receipt either finds it or is parked (parked_receipts) and matched later.
-- `state` is the last receipt of this segment: a duplicate receipt is a no-op, and a
-- multipart message is delivered when all its segments are.
CREATE TABLE message_segments (
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  run_id          bigint NOT NULL,
  message_id      integer NOT NULL,
  part            smallint NOT NULL,
  state           message_state,
  PRIMARY KEY (carrier, smsc_message_id)
);

-- Receipts that matched no segment yet (deliver_sm overtook submit_sm_resp, or the resp is
-- still in a worker's batch). Never dropped: matched later by MessageRepository.matchParked.
CREATE TABLE parked_receipts (
  id              bigserial PRIMARY KEY,
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  state           message_state NOT NULL,
  error_code      text,
  done_at         timestamptz,
  received_at     timestamptz NOT NULL DEFAULT now(),
  raw             text
);
CREATE INDEX parked_receipts_key ON parked_receipts (carrier, smsc_message_id);

-- ---------------------------------------------------------------- audience
CREATE TABLE lists (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*$'),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscribers (
  list_id  text NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  msisdn   text NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{7,14}$'),
  province text,
  commune  text,
  attrs    jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (list_id, msisdn)
);

CREATE TABLE opt_outs (
  msisdn     text PRIMARY KEY CHECK (msisdn ~ '^[1-9][0-9]{7,14}$'),
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Number portability: overrides the prefix table. `carrier` is text because a number may
-- have moved to a network Loa does not send through (then it is unroutable).
CREATE TABLE portability (
  msisdn     text PRIMARY KEY CHECK (msisdn ~ '^[1-9][0-9]{7,14}$'),
  carrier    text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- screens
CREATE TABLE screens (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*$'),
  name       text NOT NULL,
  kind       text NOT NULL,                     -- a ScreenAdapter id: 'led', 'airport-board', …
  tags       text[] NOT NULL DEFAULT '{}',
  token_hash text NOT NULL,
  last_seen  timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- An item targets one screen (screen_id) or every screen matching kinds/tags (NULL = any).
CREATE TABLE playlist_items (
  id           bigserial PRIMARY KEY,
  screen_id    text REFERENCES screens (id) ON DELETE CASCADE,
  target_kinds text[],
  target_tags  text[],
  campaign_id  text REFERENCES campaigns (id),
  run_id       bigint REFERENCES runs (id),
  texts        jsonb NOT NULL,                  -- { "vi": "…", "en": "…" }
  duration     integer NOT NULL CHECK (duration > 0), -- seconds
  priority     campaign_priority NOT NULL DEFAULT 'normal',
  valid_from   timestamptz NOT NULL,
  valid_to     timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_from < valid_to)
);
-- A playlist is "items still valid": the index keeps polls cheap as history accumulates.
CREATE INDEX playlist_items_valid_to ON playlist_items (valid_to);

-- Proof of play. A controller resends its offline backlog, so a record is unique per
-- (screen, item, start) and a resend is ignored rather than counted twice.
CREATE TABLE plays (
  id          bigserial PRIMARY KEY,
  screen_id   text NOT NULL REFERENCES screens (id) ON DELETE CASCADE,
  item_id     bigint NOT NULL REFERENCES playlist_items (id) ON DELETE CASCADE,
  played_from timestamptz NOT NULL,
  played_to   timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  CHECK (played_from < played_to),
  UNIQUE (screen_id, item_id, played_from)
);

-- ---------------------------------------------------------------- access and audit
CREATE TABLE api_keys (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  key_hash   text NOT NULL UNIQUE,              -- sha256 of the key; the key itself is never stored
  role       api_role NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  subject text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);
CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION forbid_update();
