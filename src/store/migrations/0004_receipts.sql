-- The receipt path (issue 8, items 6 and 8): SMSC ids scoped by time, parked receipts swept by
-- index and expired to `unmatched_receipts`, ids that cannot be trusted isolated in
-- `segment_conflicts`, retention by dropping partitions, and one plan-proof function call per
-- batch instead of BEGIN / SET LOCAL / statement / RESET / parked check / COMMIT.
--
-- SMSC ids are not forever unique (counters wrap, an SMSC restarts its counter). Decision:
-- message_segments is partitioned by day of submission and keeps every segment, even when a
-- carrier gives an id again; a receipt goes only to the NEWEST segment with its (carrier, id)
-- submitted within the receipt window (apply_receipts' p_window, LOA_RECEIPT_WINDOW_HOURS,
-- longer than any campaign validity plus the SMSC's own retry time). So an old message can
-- never take the receipt of a new one: outside the window it is not looked at, inside it the
-- newer segment wins. The alternative, a global unique (carrier, id) that moves the id to the
-- new message (0001), loses the old segment (support can no longer say which message had the
-- id) and needs a global index that a partitioned table cannot have. A final receipt that
-- meets a newest segment already final with ANOTHER state is not a redelivery but a receipt
-- for a reuse whose submit_sm_resp is not stored yet: it is parked, not dropped. Residual
-- risk, accepted: an id reused within the window whose receipt overtakes its submit_sm_resp
-- and reports the same final state as the older use is taken for a redelivery (the newer
-- message then ends `unknown`, never wrongly `delivered`/`failed` on the older one).
--
-- The primary key contains the message (run, id, part) as well as (id, carrier): two uses of
-- one id are two rows, and a replayed markSubmitted (same message, same id, same day) is a
-- no-op through ON CONFLICT. (smsc_message_id, carrier) lead the key: receipts look segments
-- up by batches of ids (0002).

-- ---------------------------------------------------------------- daily partitions
-- Creates (idempotently) the daily partition of `parent` that holds `day`; returns its name.
-- Created apart then ATTACHed (SHARE UPDATE EXCLUSIVE on the parent, see create_run_partition)
-- so a partition made during the day never queues the receipt path behind it.
CREATE FUNCTION create_day_partition(p_parent text, p_day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  part text := p_parent || '_d' || to_char(p_day, 'YYYYMMDD');
  fill int := CASE p_parent WHEN 'message_segments' THEN 80 ELSE 100 END;
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('loa:day_partition:' || part, 0));
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  -- fillfactor 80 on segments: each row is updated once or twice (interim, final receipt) and
  -- `state` is in no index, so with room on the page those updates are HOT and need no vacuum.
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = %s)', part, p_parent, fill);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I >= %L AND %I < %L)', part, part || '_range',
                 CASE p_parent WHEN 'message_segments' THEN 'submitted_day' ELSE 'received_day' END, p_day,
                 CASE p_parent WHEN 'message_segments' THEN 'submitted_day' ELSE 'received_day' END, p_day + 1);
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', p_parent, part, p_day, p_day + 1);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_range');
  RETURN part;
END $$;

-- The day a row written now belongs to (UTC, so partitions do not depend on the session's zone).
CREATE FUNCTION loa_today() RETURNS date LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'UTC')::date $$;

-- ---------------------------------------------------------------- message_segments, by day
ALTER TABLE message_segments RENAME TO message_segments_0003;
CREATE TABLE message_segments (
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  run_id          bigint NOT NULL,
  message_id      integer NOT NULL,
  part            smallint NOT NULL,
  state           message_state,
  submitted_at    timestamptz NOT NULL DEFAULT now(),
  submitted_day   date NOT NULL DEFAULT loa_today(),
  PRIMARY KEY (smsc_message_id, carrier, run_id, message_id, part, submitted_day)
) PARTITION BY RANGE (submitted_day);
SELECT create_day_partition('message_segments', loa_today());
INSERT INTO message_segments (carrier, smsc_message_id, run_id, message_id, part, state)
  SELECT carrier, smsc_message_id, run_id, message_id, part, state FROM message_segments_0003;
DROP TABLE message_segments_0003;
ALTER INDEX message_segments_pkey1 RENAME TO message_segments_pkey;

-- ---------------------------------------------------------------- parked_receipts, by day
-- Receipts whose segment is not stored yet. Matched by match_parked (a periodic sweep, through
-- the segments' key); past the receipt window moved to unmatched_receipts. Daily partitions:
-- the rows a match deletes bloat only a partition that is dropped whole a few days later.
ALTER TABLE parked_receipts RENAME TO parked_receipts_0003;
ALTER INDEX parked_receipts_key RENAME TO parked_receipts_0003_key;
CREATE TABLE parked_receipts (
  id              bigint GENERATED BY DEFAULT AS IDENTITY,
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  state           message_state NOT NULL,
  error_code      text,
  done_at         timestamptz,
  received_at     timestamptz NOT NULL DEFAULT now(),
  received_day    date NOT NULL DEFAULT loa_today(),
  raw             text,
  PRIMARY KEY (id, received_day)
) PARTITION BY RANGE (received_day);
CREATE INDEX parked_receipts_key ON parked_receipts (smsc_message_id, carrier);
SELECT create_day_partition('parked_receipts', loa_today());
INSERT INTO parked_receipts (carrier, smsc_message_id, state, error_code, done_at, received_at, raw)
  SELECT carrier, smsc_message_id, state, error_code, done_at, received_at, raw FROM parked_receipts_0003 ORDER BY id;
DROP TABLE parked_receipts_0003;
ALTER INDEX parked_receipts_pkey1 RENAME TO parked_receipts_pkey;

-- Parked receipts that found no segment within the receipt window: kept for an operator and
-- counted (ReceiptRepository.countUnmatched), never silently dropped.
CREATE TABLE unmatched_receipts (
  id              bigserial PRIMARY KEY,
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  state           message_state NOT NULL,
  error_code      text,
  done_at         timestamptz,
  received_at     timestamptz NOT NULL,
  expired_at      timestamptz NOT NULL DEFAULT now(),
  raw             text
);
CREATE INDEX unmatched_receipts_received_at ON unmatched_receipts (received_at);

-- SMSC ids markSubmitted would not store: empty, or given to two segments in one batch. Neither
-- message gets a segment (a receipt for that id could belong to either); both are still
-- counted as submitted (the SMSC took them) and end `unknown` unless an operator resolves them.
CREATE TABLE segment_conflicts (
  id              bigserial PRIMARY KEY,
  carrier         carrier_id NOT NULL,
  smsc_message_id text NOT NULL,
  run_id          bigint NOT NULL,
  message_id      integer NOT NULL,
  part            smallint NOT NULL,
  reason          text NOT NULL CHECK (reason IN ('empty-id', 'duplicate-in-batch')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, message_id, part, smsc_message_id)
);

-- Runs whose `messages` partition (phone numbers included) retention dropped.
CREATE TABLE purged_runs (
  run_id    bigint PRIMARY KEY,
  purged_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- mark_submitted
-- submit_sm_resp ids → segments and submitting → submitted, one call (one round trip, its own
-- transaction when autocommitted). Plan-proof: only key lookups (enable_seqscan off) on a
-- constant run's partition (force_custom_plan prunes at plan time) and hash joins of the batch's own rows
-- (enable_nestloop off: a nested loop that rescans the batch per row looks cheap to a planner
-- that takes an un-analysed partition for empty, and is quadratic).
-- p_late: a submit_sm_resp after its time-out (LateResponseTracker): the message may be
-- `ambiguous` by now, and becomes `submitted` once every part has an id (the handset's truth wins).
CREATE FUNCTION mark_submitted(p_run bigint, p_carrier carrier_id, p_smsc_ids text[], p_message_ids int[], p_parts int2[], p_late boolean DEFAULT false)
RETURNS TABLE (segments int, submitted int, conflicts int)
LANGUAGE plpgsql SET enable_nestloop = off SET enable_hashjoin = on SET enable_mergejoin = on SET enable_seqscan = off
  SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_today date := loa_today();
BEGIN
  PERFORM create_day_partition('message_segments', v_today);
  RETURN QUERY
  WITH x AS (
    SELECT u.smsc_message_id, u.message_id, u.part,
           CASE WHEN btrim(u.smsc_message_id) = '' THEN 'empty-id'
                WHEN count(*) OVER (PARTITION BY u.smsc_message_id) > 1 THEN 'duplicate-in-batch' END AS bad
    FROM unnest(p_smsc_ids, p_message_ids, p_parts) AS u(smsc_message_id, message_id, part)
  ),
  conflict AS (
    INSERT INTO segment_conflicts (carrier, smsc_message_id, run_id, message_id, part, reason)
    SELECT p_carrier, x.smsc_message_id, p_run, x.message_id, x.part, x.bad FROM x WHERE x.bad IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING message_id
  ),
  seg AS (
    INSERT INTO message_segments (carrier, smsc_message_id, run_id, message_id, part, submitted_day)
    SELECT p_carrier, x.smsc_message_id, p_run, x.message_id, x.part, v_today FROM x WHERE x.bad IS NULL
    ON CONFLICT DO NOTHING
    RETURNING message_id
  ),
  per_message AS (
    SELECT a.message_id, count(*) AS n FROM (SELECT message_id FROM seg UNION ALL SELECT message_id FROM conflict) a GROUP BY a.message_id
  ),
  moved AS (
    UPDATE messages m
    SET parts_submitted = m.parts_submitted + p.n,
        state = CASE WHEN m.parts_submitted + p.n >= m.parts_total THEN 'submitted'::message_state ELSE m.state END,
        submitted_at = coalesce(m.submitted_at, now()),
        done_at = CASE WHEN m.state = 'ambiguous' AND m.parts_submitted + p.n >= m.parts_total THEN NULL ELSE m.done_at END
    FROM per_message p
    WHERE m.run_id = p_run AND m.id = ANY(p_message_ids) AND m.id = p.message_id
      AND (m.state = 'submitting' OR (p_late AND m.state = 'ambiguous'))
    RETURNING m.state
  )
  SELECT (SELECT count(*) FROM seg)::int, (SELECT count(*) FROM moved WHERE moved.state = 'submitted')::int, (SELECT count(*) FROM conflict)::int;
END $$;

-- ---------------------------------------------------------------- apply_receipts
-- Receipts → newest in-window segment → message, in one call. A receipt is applied when its
-- segment has no final receipt yet; a repeat of the final one (an SMSC redelivers what was not
-- acknowledged) is a duplicate; anything else is parked (never dropped). The messages of each
-- run touched are updated with the run as a constant (one partition, pruned at plan time).
-- A receipt may update an `ambiguous` or `unknown` message: the handset's truth wins.
-- enable_seqscan off: every table is reached through its key, whatever the statistics say
-- (an un-analysed 2 M-row message_segments otherwise picks a scan and ~50× the time).
-- jit off in every function here: a disabled plan node adds 1e10 to the estimated cost, far
-- past jit_above_cost, and compiling a 1,000-row batch's statement takes seconds. Hash and
-- merge joins are switched on explicitly: match_parked (which switches them off for its key
-- probes) calls this function, and settings not named here would be inherited.
CREATE FUNCTION apply_receipts(
  p_carriers carrier_id[], p_smsc_ids text[], p_states message_state[], p_errors text[],
  p_done_at timestamptz[], p_raw text[], p_received_at timestamptz[], p_window interval
) RETURNS TABLE (applied int, duplicates int, parked int)
LANGUAGE plpgsql SET enable_nestloop = off SET enable_hashjoin = on SET enable_mergejoin = on SET enable_seqscan = off
  SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_since timestamptz := now() - p_window;
  v_since_day date := ((now() - p_window) AT TIME ZONE 'UTC')::date;
  v_today date := loa_today();
  c_run bigint[]; c_msg int[]; c_state message_state[]; c_err text[]; c_done timestamptz[]; c_ord bigint[];
  v_applied int := 0; v_parked int := 0; v_total int := coalesce(cardinality(p_smsc_ids), 0);
  v_run bigint;
BEGIN
  PERFORM create_day_partition('parked_receipts', v_today);
  WITH r AS (
    SELECT * FROM unnest(p_carriers, p_smsc_ids, p_states, p_errors, p_done_at, p_raw, p_received_at)
      WITH ORDINALITY AS r(carrier, smsc_message_id, state, error_code, done_at, raw, received_at, ord)
  ),
  newest AS (
    SELECT DISTINCT ON (s.smsc_message_id, s.carrier) s.smsc_message_id, s.carrier, s.run_id, s.message_id, s.part, s.submitted_day, s.state
    FROM message_segments s
    WHERE s.smsc_message_id = ANY(p_smsc_ids) AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since
    ORDER BY s.smsc_message_id, s.carrier, s.submitted_at DESC
  ),
  matched AS (
    SELECT r.*, n.run_id, n.message_id, n.part, n.submitted_day, n.state AS segment_state
    FROM r JOIN newest n ON n.smsc_message_id = r.smsc_message_id AND n.carrier = r.carrier
  ),
  upd AS (
    UPDATE message_segments s SET state = m.state
    FROM matched m
    WHERE s.smsc_message_id = ANY(p_smsc_ids) AND s.submitted_day >= v_since_day
      AND s.smsc_message_id = m.smsc_message_id AND s.carrier = m.carrier AND s.run_id = m.run_id
      AND s.message_id = m.message_id AND s.part = m.part AND s.submitted_day = m.submitted_day
      -- On s, not m: a concurrent writer's change is re-checked (READ COMMITTED re-evaluation).
      AND (s.state IS NULL OR s.state IN ('enroute', 'accepted'))
    RETURNING s.run_id, s.message_id, m.state, m.error_code, m.done_at, m.ord
  ),
  park AS (
    INSERT INTO parked_receipts (carrier, smsc_message_id, state, error_code, done_at, raw, received_at, received_day)
    SELECT r.carrier, r.smsc_message_id, r.state, r.error_code, r.done_at, r.raw, coalesce(r.received_at, now()), v_today
    FROM r LEFT JOIN matched m ON m.ord = r.ord
    WHERE m.ord IS NULL
       OR (m.segment_state IS NOT NULL AND m.segment_state NOT IN ('enroute', 'accepted')
           AND r.state NOT IN ('enroute', 'accepted') AND r.state <> m.segment_state)
    RETURNING 1
  )
  SELECT array_agg(u.run_id), array_agg(u.message_id), array_agg(u.state), array_agg(u.error_code), array_agg(u.done_at), array_agg(u.ord),
         count(*), (SELECT count(*) FROM park)
  INTO c_run, c_msg, c_state, c_err, c_done, c_ord, v_applied, v_parked
  FROM upd u;

  IF v_applied > 0 THEN
    FOR v_run IN SELECT DISTINCT x FROM unnest(c_run) AS x LOOP
      -- One change per message: delivered when every part is (counted against parts_total),
      -- failed with the first failing part's state and code, else the latest interim state.
      UPDATE messages m SET
        parts_delivered = m.parts_delivered + u.delivered,
        state = CASE
          WHEN u.failed IS NOT NULL THEN u.failed
          WHEN m.parts_delivered + u.delivered >= m.parts_total THEN 'delivered'::message_state
          WHEN u.interim IS NOT NULL AND m.state <> 'submitting' THEN u.interim
          ELSE m.state END,
        error_code = coalesce(u.error_code, m.error_code),
        done_at = CASE WHEN u.failed IS NOT NULL OR m.parts_delivered + u.delivered >= m.parts_total
                       THEN coalesce(u.done_at, now()) ELSE m.done_at END
      FROM (
        -- Plain aggregates and look-ups by ord, not array_agg(… ORDER BY …): those sort once per
        -- message, which costs more than the whole update for a batch of single-part messages.
        WITH c AS (
          SELECT * FROM unnest(c_run, c_msg, c_state, c_err, c_done, c_ord) AS c(run_id, message_id, state, error_code, done_at, ord)
          WHERE c.run_id = v_run
        ),
        a AS (
          SELECT c.message_id AS id,
                 count(*) FILTER (WHERE c.state = 'delivered')::int AS delivered,
                 min(c.ord) FILTER (WHERE c.state NOT IN ('delivered', 'enroute', 'accepted')) AS failed_ord,
                 max(c.ord) FILTER (WHERE c.state IN ('enroute', 'accepted')) AS interim_ord,
                 max(c.ord) FILTER (WHERE c.error_code IS NOT NULL) AS error_ord,
                 max(c.done_at) FILTER (WHERE c.state = 'delivered') AS delivered_at
          FROM c GROUP BY c.message_id
        )
        SELECT a.id, a.delivered, f.state AS failed, i.state AS interim,
               coalesce(f.error_code, e.error_code) AS error_code, coalesce(f.done_at, a.delivered_at) AS done_at
        FROM a
        LEFT JOIN c f ON f.ord = a.failed_ord
        LEFT JOIN c i ON i.ord = a.interim_ord
        LEFT JOIN c e ON e.ord = a.error_ord
      ) u
      WHERE m.run_id = v_run AND m.id = ANY(c_msg) AND m.id = u.id
        AND m.state IN ('submitting', 'submitted', 'enroute', 'accepted', 'ambiguous', 'unknown');
    END LOOP;
  END IF;
  RETURN QUERY SELECT v_applied, v_total - v_applied - v_parked, v_parked;
END $$;

-- ---------------------------------------------------------------- match_parked
-- The periodic sweep: takes up to p_limit parked receipts after p_after (id order) that now
-- have an in-window segment — each a probe of the segments' key, never a join of two whole
-- tables — removes them and applies them (re-parking, with their first received_at, any the
-- segment still refuses). Returns the last id looked at (0 when the end was reached) so the
-- caller walks the parked set in chunks.
CREATE FUNCTION match_parked(p_limit int, p_window interval, p_after bigint DEFAULT 0)
RETURNS TABLE (applied int, duplicates int, parked int, last_id bigint)
LANGUAGE plpgsql SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET plan_cache_mode = force_custom_plan SET jit = off AS $$
DECLARE
  v_since timestamptz := now() - p_window;
  v_since_day date := ((now() - p_window) AT TIME ZONE 'UTC')::date;
  v_last bigint; v_seen int;
  k_carrier carrier_id[]; k_id text[]; k_state message_state[]; k_err text[]; k_done timestamptz[]; k_raw text[]; k_recv timestamptz[];
BEGIN
  SELECT max(c.id), count(*) INTO v_last, v_seen
  FROM (SELECT p.id FROM parked_receipts p WHERE p.id > p_after ORDER BY p.id LIMIT p_limit) c;
  IF v_seen = 0 THEN
    RETURN QUERY SELECT 0, 0, 0, 0::bigint;
    RETURN;
  END IF;
  WITH chunk AS (
    SELECT p.id, p.received_day FROM parked_receipts p
    WHERE p.id > p_after AND p.id <= v_last
      AND EXISTS (SELECT 1 FROM message_segments s
                  WHERE s.smsc_message_id = p.smsc_message_id AND s.carrier = p.carrier
                    AND s.submitted_day >= v_since_day AND s.submitted_at >= v_since)
    FOR UPDATE SKIP LOCKED
  ),
  gone AS (
    DELETE FROM parked_receipts p USING chunk c WHERE p.id = c.id AND p.received_day = c.received_day
    RETURNING p.id, p.carrier, p.smsc_message_id, p.state, p.error_code, p.done_at, p.raw, p.received_at
  )
  SELECT array_agg(g.carrier ORDER BY g.id), array_agg(g.smsc_message_id ORDER BY g.id), array_agg(g.state ORDER BY g.id),
         array_agg(g.error_code ORDER BY g.id), array_agg(g.done_at ORDER BY g.id), array_agg(g.raw ORDER BY g.id), array_agg(g.received_at ORDER BY g.id)
  INTO k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv
  FROM gone g;
  IF k_id IS NULL THEN
    RETURN QUERY SELECT 0, 0, 0, CASE WHEN v_seen < p_limit THEN 0 ELSE v_last END;
    RETURN;
  END IF;
  RETURN QUERY SELECT a.applied, a.duplicates, a.parked, CASE WHEN v_seen < p_limit THEN 0 ELSE v_last END
  FROM apply_receipts(k_carrier, k_id, k_state, k_err, k_done, k_raw, k_recv, p_window) a;
END $$;

-- ---------------------------------------------------------------- retention
-- Parked receipts older than the window → unmatched_receipts (kept and counted). Returns how many.
CREATE FUNCTION expire_parked(p_window interval) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_count int;
BEGIN
  WITH gone AS (
    DELETE FROM parked_receipts p
    WHERE p.received_day <= ((now() - p_window) AT TIME ZONE 'UTC')::date AND p.received_at < now() - p_window
    RETURNING p.carrier, p.smsc_message_id, p.state, p.error_code, p.done_at, p.received_at, p.raw
  ),
  kept AS (
    INSERT INTO unmatched_receipts (carrier, smsc_message_id, state, error_code, done_at, received_at, raw)
    SELECT * FROM gone RETURNING 1
  )
  SELECT count(*) INTO v_count FROM kept;
  RETURN v_count;
END $$;

-- Daily partitions of `parent` entirely before `before`: dropped. Returns their names. A
-- partition of parked_receipts is dropped only when empty (expire_parked emptied it), so
-- nothing unmatched is ever lost to retention.
CREATE FUNCTION drop_day_partitions(p_parent text, p_before date) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  part record;
  v_day date;
  v_busy boolean;
BEGIN
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = p_parent::regclass AND c.relname ~ ('^' || p_parent || '_d[0-9]{8}$')
    ORDER BY c.relname
  LOOP
    v_day := to_date(right(part.relname, 8), 'YYYYMMDD');
    CONTINUE WHEN v_day + 1 > p_before;
    IF p_parent = 'parked_receipts' THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', part.relname) INTO v_busy;
      CONTINUE WHEN v_busy;
    END IF;
    EXECUTE format('DROP TABLE %I', part.relname);
    RETURN NEXT part.relname;
  END LOOP;
END $$;

-- The `messages` partition of every finished run older than `p_before` (phone numbers with
-- it): dropped whole, recorded in purged_runs. A run still running is never touched.
CREATE FUNCTION drop_old_run_partitions(p_before timestamptz) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
  v_run record;
BEGIN
  FOR v_run IN
    SELECT r.id FROM runs r
    WHERE r.state IN ('completed', 'cancelled', 'failed') AND coalesce(r.finished_at, r.created_at) < p_before
      AND NOT EXISTS (SELECT 1 FROM purged_runs p WHERE p.run_id = r.id)
    ORDER BY r.id
  LOOP
    IF to_regclass('messages_r' || v_run.id) IS NOT NULL THEN
      EXECUTE format('DROP TABLE %I', 'messages_r' || v_run.id);
    END IF;
    INSERT INTO purged_runs (run_id) VALUES (v_run.id);
    RETURN NEXT v_run.id;
  END LOOP;
END $$;
