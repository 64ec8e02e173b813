-- Durable sources for the reports (issue 12, follow-up): carrier outages for the daily report's
-- abnormal events, and the run timeline kept by the counters' compaction so a run report never
-- scans a run's messages for it.

-- ---------------------------------------------------------------- carrier outages
-- A period in which no worker process of the deployment held a bound session with a carrier.
-- Bind state itself lives in Redis (src/jobs/bind-state.ts); every worker watches the sum over all
-- workers and, on a change, opens or closes the carrier's one open row (the partial unique index
-- makes two workers seeing the same change write it once). Times are as observed: within the
-- bind state's publishing interval (1 s by default) of the real change.
CREATE TABLE carrier_outages (
  id          bigserial PRIMARY KEY,
  carrier     carrier_id NOT NULL,
  started_at  timestamptz NOT NULL,
  -- NULL while the carrier is still without a bind.
  ended_at    timestamptz,
  -- The worker that saw it first and the one that saw it end (for support).
  opened_by   text NOT NULL,
  closed_by   text,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX carrier_outages_open ON carrier_outages (carrier) WHERE ended_at IS NULL;
CREATE INDEX carrier_outages_period ON carrier_outages (started_at, ended_at);

-- ---------------------------------------------------------------- run timeline
-- Messages that reached `submitted` and `delivered` per run and second, taken from the counters'
-- raw rows as the sweeper compacts them (RunCountRepository.compact). `compacted` tells the rows
-- compaction wrote (sums, no longer one statement's change) from the triggers' own.
ALTER TABLE run_counts ADD COLUMN compacted boolean NOT NULL DEFAULT false;
-- Rows written before this migration may already be sums: none of them feeds a timeline.
UPDATE run_counts SET compacted = true;

CREATE TABLE run_timeline (
  run_id  bigint NOT NULL,
  kind    text NOT NULL CHECK (kind IN ('submitted', 'delivered')),
  second  timestamptz NOT NULL,
  count   bigint NOT NULL,
  PRIMARY KEY (run_id, kind, second)
);

-- Runs that existed before the timeline was kept: their report still scans their messages (once,
-- kept in report_run_scans).
CREATE TABLE run_timeline_missing (run_id bigint PRIMARY KEY);
INSERT INTO run_timeline_missing (run_id) SELECT id FROM runs;
