-- Run control and the scheduler (issue 9, items 1 and 3).

-- `cancelled`: a message a cancelled run never sent. Final; counted like every other state
-- (the run_counts trigger of 0005 picks it up as it does any state).
ALTER TYPE message_state ADD VALUE IF NOT EXISTS 'cancelled';

-- Why a paused run is paused, as a short code the scheduler can act on: 'operator' (loa pause),
-- 'quiet-hours' (the scheduler paused it and resumes only those), 'auto' (the submit path:
-- stop-run status, repeated permanent errors). The human reason stays in runs.error.
ALTER TABLE runs ADD COLUMN paused_reason text;
-- A manual launch that overrode quiet hours (`loa launch --now` at night): the officer chose to
-- send now, so the scheduler does not pause this run when quiet hours begin or go on.
ALTER TABLE runs ADD COLUMN ignore_quiet_hours boolean NOT NULL DEFAULT false;

-- ---------------------------------------------------------------- the scheduler's lease
-- One row per lease name. Taking the lease over (expired, or free) increments `token`; every
-- launch write of the scheduler checks, in the same statement, that the token it holds is still
-- the row's token, so a paused or partitioned old leader cannot launch after a new one took over
-- (a fencing token: the database refuses the stale writer, whatever its own clock believes).
CREATE TABLE scheduler_leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  token      bigint NOT NULL,
  expires_at timestamptz NOT NULL
);

-- ---------------------------------------------------------------- occurrences
-- What the scheduler decided for each occurrence of a campaign's schedule, unique per CAMPAIGN
-- (not per version): editing a daily campaign after 08:00 gives a new version, whose 08:00
-- occurrence has the same id and so never makes a second run. The launched run is the run whose
-- occurrence_id equals this one's (runs.occurrence_id).
CREATE TABLE schedule_occurrences (
  campaign_id   text NOT NULL REFERENCES campaigns (id),
  occurrence_id text NOT NULL,
  nominal       timestamptz NOT NULL,
  state         text NOT NULL CHECK (state IN ('launched', 'skipped')),
  -- Why a skipped occurrence never launched: 'expired' (found after occurrence + validity, e.g.
  -- after the scheduler was down), 'collapsed-by-quiet-hours' (src/domain/schedule.ts).
  reason        text,
  run_id        bigint REFERENCES runs (id),
  -- The fencing token of the scheduler that decided it.
  token         bigint NOT NULL,
  decided_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, occurrence_id)
);
